output "lb_public_ips" {
  description = "Elastic IPs of the two nginx load balancers (primary first); Route 53 failover records point at them when route53_zone_id is set."
  value       = aws_eip.lb[*].public_ip
}

output "app_private_ips" {
  description = "Private addresses of the app servers (the LB's upstreams)."
  value       = aws_instance.app[*].private_ip
}

output "db_address" {
  description = "RDS endpoint host name (private)."
  value       = aws_db_instance.main.address
}

output "db_secret_arn" {
  description = "Secrets Manager secret holding the RDS master credentials (operators only: ansible/db_roles.yml)."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "db_migrate_policy_arn" {
  description = "Attach to the deploy identity (the role or group that runs ansible): lets it log in as the migrator."
  value       = aws_iam_policy.db_migrate.arn
}

output "bucket_name" {
  description = "S3 bucket for documents (AWS_STORAGE_BUCKET_NAME)."
  value       = aws_s3_bucket.files.bucket
}

output "ecr_repository_url" {
  description = "Push the application image here."
  value       = aws_ecr_repository.app.repository_url
}

output "ansible_inventory" {
  description = "Ansible YAML/JSON inventory; also written to var.inventory_path."
  value       = local.inventory
}
