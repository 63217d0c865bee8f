terraform {
  # mock_provider in `terraform test` needs 1.7+.
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Remote state: bucket/key/region/lock table are given at init time with
  # -backend-config=backend.hcl (see docs/deploy.md), so no account detail is
  # committed here.
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
