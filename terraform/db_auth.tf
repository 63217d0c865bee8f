# Who may log in to PostgreSQL as whom (IAM database authentication).
#
#   backoffice_app       the app servers' instance profile (iam.tf)
#   backoffice_migrator  the deploy identity only: attach aws_iam_policy.db_migrate
#                        to the role or group that runs ansible (docs/deploy.md);
#                        ansible mints the token on the control node and hands it to
#                        the one-off migration container, so no app server can change
#                        the schema on its own.
# The PostgreSQL roles themselves are created by ansible/db_roles.yml (as the RDS
# master user, whose secret only operators read).

data "aws_partition" "current" {}

locals {
  db_user_arn_prefix   = "arn:${data.aws_partition.current.partition}:rds-db:${var.region}:${data.aws_caller_identity.current.account_id}:dbuser:${aws_db_instance.main.resource_id}"
  db_app_user_arn      = "${local.db_user_arn_prefix}/${var.db_app_user}"
  db_migrator_user_arn = "${local.db_user_arn_prefix}/${var.db_migrator_user}"
}

data "aws_iam_policy_document" "db_migrate" {
  statement {
    sid       = "ConnectAsMigrator"
    actions   = ["rds-db:connect"]
    resources = [local.db_migrator_user_arn]
  }
}

resource "aws_iam_policy" "db_migrate" {
  name_prefix = "${local.name}-db-migrate-"
  description = "${local.name}: log in to PostgreSQL as ${var.db_migrator_user} (deploys run migrations)"
  policy      = data.aws_iam_policy_document.db_migrate.json
}
