# One customer-managed key for the data of this environment: RDS storage,
# Performance Insights, the RDS master-password secret, S3 objects, ECR images.
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:In a key policy, Resource "*" means this key only; the account root statement is the AWS default that lets IAM policies grant use of the key.
  #checkov:skip=CKV_AWS_111:Same key-policy statement: "*" is this key, and write access is constrained by IAM policies in the account.
  #checkov:skip=CKV_AWS_356:Same key-policy statement: "*" is this key, not every resource.
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

  # CloudWatch Logs encrypts the VPC flow-log group with this key.
  statement {
    sid = "CloudWatchLogsUse"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/${var.project}/${var.environment}/*"]
    }
  }
}

data "aws_iam_policy_document" "kms_services" {
  #checkov:skip=CKV_AWS_111:A key policy: "*" is this key; CloudTrail's use is bound to this account's trails by encryption context.
  #checkov:skip=CKV_AWS_356:A key policy: "*" is this key, not every resource.
  source_policy_documents = [data.aws_iam_policy_document.kms.json]

  # CloudTrail encrypts the trail's files in the ops bucket with this key.
  statement {
    sid       = "CloudTrailEncrypt"
    actions   = ["kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:aws:cloudtrail:*:${data.aws_caller_identity.current.account_id}:trail/*"]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${local.name}: RDS, secrets, S3 objects and images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms_services.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}
