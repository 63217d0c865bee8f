# One customer-managed key for the data of this environment: RDS storage,
# Performance Insights, the RDS master-password secret, S3 objects, ECR images.
data "aws_iam_policy_document" "kms" {
  # Key administration and use are delegated to IAM policies of this account
  # (the AWS-recommended default statement); services use it through grants.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${local.name}: RDS, secrets, S3 objects and images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}
