locals {
  bucket_name = var.bucket_name != "" ? var.bucket_name : "${local.name}-files-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket" "files" {
  #checkov:skip=CKV_AWS_18:Every read and write of an object is recorded by the CloudTrail trail's S3 data events on this bucket (aws_cloudtrail.main in ops.tf), which server access logs would only repeat less reliably.
  #checkov:skip=CKV_AWS_144:Cross-region replication is not required; versioning plus RDS backups cover recovery within the region.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; the app knows about every object it writes.
  bucket = local.bucket_name

  # Documents are business records: never let `terraform destroy` delete them.
  force_destroy = false

  tags = { Name = local.bucket_name }
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket = aws_s3_bucket.files.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "files" {
  bucket = aws_s3_bucket.files.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "files_tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.files.arn,
      "${aws_s3_bucket.files.arn}/*",
    ]

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
}

resource "aws_s3_bucket_policy" "files" {
  bucket = aws_s3_bucket.files.id
  policy = data.aws_iam_policy_document.files_tls_only.json

  # A bucket policy can only be written once public access is blocked.
  depends_on = [aws_s3_bucket_public_access_block.files]
}

resource "aws_s3_bucket_lifecycle_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    id     = "expire-temporary-import-uploads"
    status = "Enabled"

    filter {
      prefix = var.import_upload_prefix
    }

    expiration {
      days = var.import_upload_expiry_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "tidy-versions-and-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }

    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }

  depends_on = [aws_s3_bucket_versioning.files]
}
