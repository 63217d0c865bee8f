# Instance profile of the app servers: the app may reach only its own bucket (and
# the key that encrypts it), log in to the database as its own least-privilege
# user with IAM authentication, and pull its own image. It cannot read the RDS
# master secret, nor log in as the migrator.

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "app" {
  name_prefix        = "${var.project}-app-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ListOwnBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.files.arn]
  }

  statement {
    sid = "ObjectsInOwnBucket"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${aws_s3_bucket.files.arn}/*"]
  }

  statement {
    # A token per new connection (backoffice/db_credentials.py): nothing to rotate.
    sid       = "ConnectAsAppUser"
    actions   = ["rds-db:connect"]
    resources = [local.db_app_user_arn]
  }

  statement {
    sid       = "UseEnvironmentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "PullOwnImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.app.arn]
  }

  statement {
    # GetAuthorizationToken has no resource-level permissions in AWS.
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "app-least-privilege"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

resource "aws_iam_instance_profile" "app" {
  name_prefix = "${var.project}-app-"
  role        = aws_iam_role.app.name
}

# The load balancer needs no AWS API access at all: an empty role, so the
# instance still has an identity (and the SSM agent could be allowed later).
resource "aws_iam_role" "lb" {
  name_prefix        = "${var.project}-lb-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "lb" {
  name_prefix = "${var.project}-lb-"
  role        = aws_iam_role.lb.name
}
