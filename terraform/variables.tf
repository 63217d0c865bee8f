variable "project" {
  description = "Short name used as a prefix for every resource."
  type        = string
  default     = "backoffice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.project))
    error_message = "project must be 3-22 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment stage."
  type        = string
  default     = "prod"

  validation {
    condition     = contains(["prod", "staging", "dev"], var.environment)
    error_message = "environment must be one of prod, staging, dev."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; split into two public and two private /20 (or smaller) subnets."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr must be a valid IPv4 CIDR of /22 or larger."
  }
}

variable "availability_zones" {
  description = "The two availability zones used (fixed, so the set never changes under a running system)."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b"]

  validation {
    condition     = length(var.availability_zones) == 2 && alltrue([for az in var.availability_zones : startswith(az, var.region)])
    error_message = "availability_zones must list exactly two zones of var.region."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps VPC flow logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (e.g. 90, 365)."
  }
}

variable "admin_cidr" {
  description = "The only network allowed to SSH to the load balancer (bastion). Never 0.0.0.0/0."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a valid CIDR and must not be 0.0.0.0/0."
  }
}

variable "ami_id" {
  description = "AMI for all instances: Debian 12 (bookworm) amd64, see docs/deploy.md for how to look it up."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for the deploy user (the private key stays with the operators)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key (ssh-ed25519 preferred)."
  }
}

variable "app_count" {
  description = "Number of application servers behind the nginx load balancer."
  type        = number
  default     = 2

  validation {
    condition     = var.app_count >= 1 && var.app_count <= 20 && floor(var.app_count) == var.app_count
    error_message = "app_count must be a whole number between 1 and 20."
  }
}

variable "app_instance_type" {
  description = "EC2 type of the application servers."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.[a-z0-9]+$", var.app_instance_type))
    error_message = "app_instance_type must be an EC2 instance type such as t3.small."
  }
}

variable "lb_instance_type" {
  description = "EC2 type of the nginx load balancer."
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.[a-z0-9]+$", var.lb_instance_type))
    error_message = "lb_instance_type must be an EC2 instance type such as t3.micro."
  }
}

variable "root_volume_size" {
  description = "Root volume size in GiB (encrypted gp3)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 200
    error_message = "root_volume_size must be between 8 and 200 GiB."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must start with db."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version (minor versions are upgraded automatically)."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["15", "16", "17"], var.db_engine_version)
    error_message = "db_engine_version must be 15, 16 or 17."
  }
}

variable "db_allocated_storage" {
  description = "Initial RDS storage in GiB; autoscaling may grow it to 5x."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 1000
    error_message = "db_allocated_storage must be between 20 and 1000 GiB."
  }
}

variable "db_iam_authentication" {
  description = "IAM database authentication: the app and the migrator log in with tokens minted per connection (no password to rotate). Turn off only with a plan for the credentials (docs/deploy.md)."
  type        = bool
  default     = true
}

variable "db_app_user" {
  description = "PostgreSQL role the app servers connect as (rows only, no DDL); created by ansible/db_roles.yml."
  type        = string
  default     = "backoffice_app"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{2,62}$", var.db_app_user))
    error_message = "db_app_user must be a plain lowercase PostgreSQL identifier."
  }
}

variable "db_migrator_user" {
  description = "PostgreSQL role that owns the schema and runs migrations; created by ansible/db_roles.yml."
  type        = string
  default     = "backoffice_migrator"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{2,62}$", var.db_migrator_user)) && var.db_migrator_user != var.db_app_user
    error_message = "db_migrator_user must be a plain lowercase PostgreSQL identifier other than db_app_user."
  }
}

variable "db_multi_az" {
  description = "Run a standby in the second availability zone (recommended for prod)."
  type        = bool
  default     = true
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (turn off only to destroy a test environment)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time restore window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35 (0 would disable backups)."
  }
}

variable "bucket_name" {
  description = "Name of the documents bucket; empty means <project>-<environment>-files-<account id>."
  type        = string
  default     = ""

  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "import_upload_prefix" {
  description = "Key prefix of temporary import uploads, expired by a lifecycle rule."
  type        = string
  default     = "imports/tmp/"

  validation {
    condition     = can(regex("^[a-z0-9/_-]+/$", var.import_upload_prefix))
    error_message = "import_upload_prefix must end with a slash."
  }
}

variable "import_upload_expiry_days" {
  description = "Days after which temporary import uploads are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.import_upload_expiry_days >= 1 && var.import_upload_expiry_days <= 90
    error_message = "import_upload_expiry_days must be between 1 and 90."
  }
}

variable "inventory_path" {
  description = "Where the Ansible inventory generated from this state is written (relative to this directory)."
  type        = string
  default     = "../ansible/inventory/terraform.yml"
}

variable "ansible_mode" {
  description = "What happens after servers change: apply = run ansible/add_server.yml, render = only re-render the load balancer config locally (CI), none = only write the inventory."
  type        = string
  default     = "apply"

  validation {
    condition     = contains(["apply", "render", "none"], var.ansible_mode)
    error_message = "ansible_mode must be apply, render or none."
  }
}

variable "domain_name" {
  description = "Public host name of the back-office (e.g. backoffice.example.com); empty = no DNS records, no certificate."
  type        = string
  default     = ""

  validation {
    condition     = var.domain_name == "" || can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a lowercase DNS name or empty."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name: failover records, health checks, DNS-01 certificates. Empty = manage DNS elsewhere (no failover)."
  type        = string
  default     = ""
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirm the subscription e-mail); empty = subscribe later."
  type        = string
  default     = ""
}

variable "app_log_retention_days" {
  description = "Days CloudWatch keeps application and nginx logs (a year: access logs answer questions long after the fact)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.app_log_retention_days)
    error_message = "app_log_retention_days must be a value CloudWatch Logs accepts (e.g. 30, 90)."
  }
}

variable "db_connections_alarm" {
  description = "Alarm when RDS connections exceed this; db.t4g.small allows about 200 (docs/deploy.md, pool sizing)."
  type        = number
  default     = 160
}
