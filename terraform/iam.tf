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
    # DJANGO_SECRET_KEY, read once at container start (infra/docker/entrypoint.sh).
    sid       = "ReadSecretKeyParameter"
    actions   = ["ssm:GetParameter"]
    resources = [local.secret_key_parameter_arn]
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

resource "aws_iam_role_policy" "app_observability" {
  name   = "ship-logs-and-metrics"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.observability.json
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

# The load balancers: ship their logs and metrics, keep the TLS certificate
# (issue and renew it with a DNS-01 challenge in the hosted zone, store and
# fetch it in the ops bucket), and nothing else.
resource "aws_iam_role" "lb" {
  name_prefix        = "${var.project}-lb-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "lb" {
  name_prefix = "${var.project}-lb-"
  role        = aws_iam_role.lb.name
}

resource "aws_iam_role_policy" "lb_observability" {
  name   = "ship-logs-and-metrics"
  role   = aws_iam_role.lb.id
  policy = data.aws_iam_policy_document.observability.json
}

data "aws_iam_policy_document" "lb_tls" {
  statement {
    sid       = "CertificateInOpsBucket"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.ops.arn}/${local.tls_prefix}*"]
  }

  statement {
    sid       = "ListCertificatePrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.ops.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.tls_prefix}*"]
    }
  }

  statement {
    sid       = "UseEnvironmentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  dynamic "statement" {
    for_each = local.dns_enabled ? [1] : []
    content {
      # certbot's dns-route53 plugin: only the _acme-challenge TXT record.
      sid       = "AcmeChallengeRecord"
      actions   = ["route53:ChangeResourceRecordSets"]
      resources = ["arn:${data.aws_partition.current.partition}:route53:::hostedzone/${var.route53_zone_id}"]

      condition {
        test     = "ForAllValues:StringEquals"
        variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
        values   = ["_acme-challenge.${var.domain_name}"]
      }

      condition {
        test     = "ForAllValues:StringEquals"
        variable = "route53:ChangeResourceRecordSetsRecordTypes"
        values   = ["TXT"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.dns_enabled ? [1] : []
    content {
      # The plugin finds the zone and waits for the change; neither has resource-level permissions.
      sid       = "AcmeChallengeLookups"
      actions   = ["route53:ListHostedZones", "route53:GetChange"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "lb_tls" {
  name   = "tls-certificate"
  role   = aws_iam_role.lb.id
  policy = data.aws_iam_policy_document.lb_tls.json
}

# Both kinds of server: the CloudWatch agent's logs and metrics, the health
# checker's and certificate job's metrics, and Session Manager (operators reach
# a shell without SSH; docs/deploy.md).
data "aws_iam_policy_document" "observability" {
  statement {
    sid       = "WriteOwnLogGroups"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [for group in aws_cloudwatch_log_group.hosts : "${group.arn}:*"]
  }

  statement {
    # PutMetricData has no resource-level permissions; the namespace is pinned.
    sid       = "PutOwnMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }

  statement {
    sid       = "DescribeOwnTags"
    actions   = ["ec2:DescribeTags"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  for_each = { app = aws_iam_role.app.name, lb = aws_iam_role.lb.name }

  role       = each.value
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

locals {
  secret_key_parameter_name = "/${var.project}/${var.environment}/django-secret-key"
  secret_key_parameter_arn  = "arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.secret_key_parameter_name}"
}
