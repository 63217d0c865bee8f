# The operations bucket: CloudTrail's log files (AWSLogs/) and the load
# balancers' TLS certificate (tls/), so both load balancers, and a rebuilt one,
# install the same certificate without anyone copying files.

locals {
  ops_bucket_name = "${local.name}-ops-${data.aws_caller_identity.current.account_id}"
  tls_prefix      = "tls/${var.domain_name != "" ? var.domain_name : "default"}/"
  trail_name      = "${local.name}-trail"
  trail_arn       = "arn:${data.aws_partition.current.partition}:cloudtrail:${var.region}:${data.aws_caller_identity.current.account_id}:trail/${local.trail_name}"
}

resource "aws_s3_bucket" "ops" {
  #checkov:skip=CKV_AWS_18:This bucket holds the access logs (CloudTrail) itself; logging it would need a third bucket for no new information (its own reads are CloudTrail management and data events too).
  #checkov:skip=CKV_AWS_144:Cross-region replication is not required: trail files are also delivered to CloudWatch Logs, and the certificate is re-issued in minutes.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists.
  bucket        = local.ops_bucket_name
  force_destroy = false
  tags          = { Name = local.ops_bucket_name }
}

resource "aws_s3_bucket_public_access_block" "ops" {
  bucket = aws_s3_bucket.ops.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "ops" {
  bucket = aws_s3_bucket.ops.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "ops" {
  bucket = aws_s3_bucket.ops.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ops" {
  bucket = aws_s3_bucket.ops.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ops" {
  bucket = aws_s3_bucket.ops.id

  rule {
    id     = "trail-files"
    status = "Enabled"

    filter {
      prefix = "AWSLogs/"
    }

    transition {
      days          = 90
      storage_class = "GLACIER_IR"
    }

    expiration {
      days = 2557 # seven years
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }

  rule {
    id     = "tidy"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }

    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }

  depends_on = [aws_s3_bucket_versioning.ops]
}

data "aws_iam_policy_document" "ops_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.ops.arn, "${aws_s3_bucket.ops.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.ops.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "CloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.ops.arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "ops" {
  bucket     = aws_s3_bucket.ops.id
  policy     = data.aws_iam_policy_document.ops_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.ops]
}

# --- CloudTrail ---------------------------------------------------------------
# The account's API calls in every region, and every read and write of a
# document (S3 data events on the documents bucket), also in CloudWatch Logs.

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/${var.project}/${var.environment}/cloudtrail"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

data "aws_iam_policy_document" "trail_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "trail" {
  name_prefix        = "${var.project}-trail-"
  assume_role_policy = data.aws_iam_policy_document.trail_assume.json
}

data "aws_iam_policy_document" "trail_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:*"]
  }
}

resource "aws_iam_role_policy" "trail" {
  name   = "write-trail-log-group"
  role   = aws_iam_role.trail.id
  policy = data.aws_iam_policy_document.trail_logs.json
}

resource "aws_cloudtrail" "main" {
  #checkov:skip=CKV_AWS_252:An SNS notice per delivered log file would drown the alarm topic; the trail's CloudWatch Logs group is what alarms and queries read.
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.ops.id
  include_global_service_events = true
  is_multi_region_trail         = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.main.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail.arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type   = "AWS::S3::Object"
      values = ["${aws_s3_bucket.files.arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.ops]
}
