terraform {
  # mock_provider in `terraform test` needs 1.7+; the S3 backend's own state
  # locking (use_lockfile, no DynamoDB table) needs 1.10+.
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Remote state: bucket/key/region are given at init time with
  # -backend-config=backend.hcl (see docs/deploy.md), so no account detail is
  # committed here. Locking: `use_lockfile = true` in backend.hcl (a lock
  # object next to the state in S3); DynamoDB locking is deprecated.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
