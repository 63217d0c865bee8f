# Security properties of the plan, proven without AWS: every resource comes
# from a mocked AWS provider (terraform test, Terraform >= 1.7).
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_db_instance" {
    defaults = {
      master_user_secret = [{
        secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock"
        kms_key_id    = "mock"
        secret_status = "active"
      }]
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::backoffice-prod-files-123456789012"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/mock"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/backoffice/prod/vpc-flow-logs"
    }
  }

  mock_resource "aws_eip" {
    defaults = {
      public_ip = "198.51.100.10"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:backoffice-prod-alarms"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn = "arn:aws:ecr:eu-west-1:123456789012:repository/backoffice-prod"
    }
  }
}

variables {
  admin_cidr     = "203.0.113.0/24"
  ami_id         = "ami-0123456789abcdef0"
  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyForTerraformTestOnly"
  app_count      = 2
  ansible_mode   = "none"
}

run "instances_require_imdsv2_and_encrypt_root_volumes" {
  command = apply

  assert {
    condition = alltrue([
      for i in concat(aws_instance.app, aws_instance.lb) :
      i.metadata_options[0].http_tokens == "required" && i.metadata_options[0].http_put_response_hop_limit == 2
    ])
    error_message = "every instance must require IMDSv2 tokens with hop limit 2"
  }

  assert {
    condition     = alltrue([for i in concat(aws_instance.app, aws_instance.lb) : i.root_block_device[0].encrypted])
    error_message = "every root volume must be encrypted"
  }

  assert {
    condition     = length(aws_instance.app) == 2
    error_message = "app_count must drive the number of app servers"
  }

  assert {
    condition     = alltrue([for i in aws_instance.app : contains(aws_subnet.private[*].id, i.subnet_id)])
    error_message = "app servers must live in the private subnets"
  }

  assert {
    condition     = alltrue([for i in aws_instance.app : !i.associate_public_ip_address])
    error_message = "app servers must not get a public address"
  }

  assert {
    condition     = length(aws_instance.lb) == 2 && alltrue([for i, eip in aws_eip.lb : eip.instance == aws_instance.lb[i].id])
    error_message = "each of the two load balancers must carry its Elastic IP"
  }

  assert {
    condition     = aws_instance.lb[0].subnet_id == aws_subnet.public[0].id && aws_instance.lb[1].subnet_id == aws_subnet.public[1].id
    error_message = "the two load balancers must live in the two zones' public subnets"
  }

  assert {
    condition     = length(aws_nat_gateway.main) == 2 && aws_nat_gateway.main[1].subnet_id == aws_subnet.public[1].id && aws_route.private_nat[1].nat_gateway_id == aws_nat_gateway.main[1].id && aws_route_table_association.private[1].route_table_id == aws_route_table.private[1].id
    error_message = "each zone's private subnet must leave through its own zone's NAT gateway"
  }

  assert {
    condition     = length(distinct(aws_subnet.private[*].availability_zone)) == 2 && length(distinct(aws_subnet.public[*].availability_zone)) == 2
    error_message = "public and private subnets must span two availability zones"
  }
}

run "database_is_private_encrypted_and_backed_up" {
  command = apply

  assert {
    condition     = aws_db_instance.main.publicly_accessible == false
    error_message = "RDS must not be publicly accessible"
  }

  assert {
    condition     = aws_db_instance.main.storage_encrypted
    error_message = "RDS storage must be encrypted"
  }

  assert {
    condition     = aws_db_instance.main.backup_retention_period >= 1
    error_message = "automated backups must be on"
  }

  assert {
    condition     = aws_db_instance.main.manage_master_user_password == true && aws_db_instance.main.password == null
    error_message = "the master password must be managed by Secrets Manager, never set in Terraform"
  }

  assert {
    condition     = aws_db_instance.main.multi_az == true && aws_db_instance.main.deletion_protection == true
    error_message = "prod defaults: multi-AZ and deletion protection"
  }

  assert {
    condition     = aws_db_instance.main.db_subnet_group_name == aws_db_subnet_group.main.name && toset(aws_db_subnet_group.main.subnet_ids) == toset(aws_subnet.private[*].id)
    error_message = "RDS must sit in the private subnets"
  }
}

run "bucket_blocks_public_access_and_is_hardened" {
  command = apply

  assert {
    condition = (
      aws_s3_bucket_public_access_block.files.block_public_acls &&
      aws_s3_bucket_public_access_block.files.block_public_policy &&
      aws_s3_bucket_public_access_block.files.ignore_public_acls &&
      aws_s3_bucket_public_access_block.files.restrict_public_buckets
    )
    error_message = "all four public-access blocks must be on"
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.files.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (bucket owner enforced)"
  }

  assert {
    condition     = aws_s3_bucket_versioning.files.versioning_configuration[0].status == "Enabled"
    error_message = "versioning must be on"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.files.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "objects must be encrypted with KMS"
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.files.rule :
      r.status == "Enabled" && try(one(r.filter).prefix, "") == "imports/tmp/" && try(one(r.expiration).days, 0) == 7
    ])
    error_message = "temporary import uploads must expire"
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.files_tls_only.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")])
    ])
    error_message = "the bucket policy must deny requests without TLS"
  }
}

run "security_groups_allow_only_the_intended_paths" {
  command = apply

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.lb_http.from_port == 80 && aws_vpc_security_group_ingress_rule.lb_http.cidr_ipv4 == "0.0.0.0/0" &&
      aws_vpc_security_group_ingress_rule.lb_https.from_port == 443 && aws_vpc_security_group_ingress_rule.lb_https.cidr_ipv4 == "0.0.0.0/0"
    )
    error_message = "the load balancer serves 80 and 443 to everyone"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.lb_ssh.from_port == 22 && aws_vpc_security_group_ingress_rule.lb_ssh.cidr_ipv4 == var.admin_cidr
    error_message = "SSH to the load balancer only from admin_cidr"
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.app_from_lb.from_port == 8000 &&
      aws_vpc_security_group_ingress_rule.app_from_lb.to_port == 8000 &&
      aws_vpc_security_group_ingress_rule.app_from_lb.referenced_security_group_id == aws_security_group.lb.id &&
      aws_vpc_security_group_ingress_rule.app_from_lb.cidr_ipv4 == null
    )
    error_message = "app port 8000 only from the load balancer's group"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_ssh_from_lb.referenced_security_group_id == aws_security_group.lb.id && aws_vpc_security_group_ingress_rule.app_ssh_from_lb.cidr_ipv4 == null
    error_message = "SSH to app servers only through the jump host"
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.db_from_app.from_port == 5432 &&
      aws_vpc_security_group_ingress_rule.db_from_app.referenced_security_group_id == aws_security_group.app.id &&
      aws_vpc_security_group_ingress_rule.db_from_app.cidr_ipv4 == null
    )
    error_message = "PostgreSQL only from the app servers' group"
  }

  assert {
    condition     = length(aws_default_security_group.default.ingress) == 0 && length(aws_default_security_group.default.egress) == 0
    error_message = "the default security group must allow nothing"
  }
}

run "instance_profile_reaches_only_own_bucket_and_database_user" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.app.statement : [
        for r in s.resources : r == "*" ? s.actions == toset(["ecr:GetAuthorizationToken"]) : contains([
          aws_s3_bucket.files.arn, "${aws_s3_bucket.files.arn}/*",
          local.db_app_user_arn, local.secret_key_parameter_arn,
          aws_kms_key.main.arn, aws_ecr_repository.app.arn,
        ], r)
      ]
    ]))
    error_message = "the app role may only touch its bucket, its database user, its key and its image"
  }

  assert {
    condition     = endswith(local.db_app_user_arn, "/backoffice_app") && strcontains(local.db_app_user_arn, ":rds-db:eu-west-1:123456789012:dbuser:")
    error_message = "the app may connect only as backoffice_app"
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.app.statement : [
        for a in s.actions : !startswith(a, "secretsmanager:")
      ]
    ]))
    error_message = "the app servers must not read the RDS master secret"
  }

  assert {
    condition     = aws_db_instance.main.iam_database_authentication_enabled
    error_message = "IAM database authentication must be on by default"
  }

  assert {
    condition     = one(data.aws_iam_policy_document.db_migrate.statement).resources == toset([local.db_migrator_user_arn]) && local.db_migrator_user_arn != local.db_app_user_arn
    error_message = "the migrate policy is for the migrator user only"
  }
}

run "rejects_the_same_user_for_app_and_migrator" {
  command = plan

  variables {
    db_migrator_user = "backoffice_app"
  }

  expect_failures = [var.db_migrator_user]
}

run "more_app_servers_when_app_count_grows" {
  command = plan

  variables {
    app_count = 3
  }

  assert {
    condition     = length(aws_instance.app) == 3 && length(keys(output.ansible_inventory.all.children.app.hosts)) == 3
    error_message = "raising app_count must add a server and an inventory entry"
  }
}

run "rejects_ssh_from_anywhere" {
  command = plan

  variables {
    admin_cidr = "0.0.0.0/0"
  }

  expect_failures = [var.admin_cidr]
}

run "rejects_zero_backup_retention" {
  command = plan

  variables {
    db_backup_retention_days = 0
  }

  expect_failures = [var.db_backup_retention_days]
}

run "failover_records_and_certificate_rights_when_a_zone_is_given" {
  command = plan

  variables {
    domain_name     = "backoffice.example.com"
    route53_zone_id = "Z0123456789ABC"
  }

  assert {
    condition     = [for r in aws_route53_record.app : r.failover_routing_policy[0].type] == ["PRIMARY", "SECONDARY"]
    error_message = "one PRIMARY and one SECONDARY failover record"
  }

  assert {
    condition     = alltrue([for h in aws_route53_health_check.lb : h.resource_path == "/readyz" && h.type == "HTTPS" && h.fqdn == "backoffice.example.com"])
    error_message = "each LB's health check must ask /readyz over HTTPS"
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.lb_tls.statement :
      toset(s.actions) == toset(["route53:ChangeResourceRecordSets"]) && anytrue([for c in s.condition : toset(c.values) == toset(["_acme-challenge.backoffice.example.com"])])
    ])
    error_message = "the LBs may change only the _acme-challenge record of the domain"
  }
}

run "no_dns_records_without_a_zone" {
  command = plan

  assert {
    condition     = length(aws_route53_record.app) == 0 && length(aws_route53_health_check.lb) == 0
    error_message = "without route53_zone_id no records are made"
  }
}

run "cloudtrail_records_document_reads_and_writes" {
  command = plan

  assert {
    condition = anytrue([
      for selector in aws_cloudtrail.main.event_selector : selector.read_write_type == "All" && anytrue([
        for resource in selector.data_resource : resource.type == "AWS::S3::Object" && contains(resource.values, "${aws_s3_bucket.files.arn}/")
      ])
    ])
    error_message = "CloudTrail must record S3 data events (reads and writes) of the documents bucket"
  }

  assert {
    condition     = aws_cloudtrail.main.is_multi_region_trail && aws_cloudtrail.main.enable_log_file_validation
    error_message = "the trail covers every region and signs its files"
  }
}

run "alarms_go_to_the_topic_and_logs_expire" {
  command = plan

  assert {
    condition = alltrue(flatten([
      [for a in aws_cloudwatch_metric_alarm.rds : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.lb_5xx_rate.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.lb_latency.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.tls_certificate.alarm_actions == toset([aws_sns_topic.alarms.arn])],
    ]))
    error_message = "every alarm notifies the SNS topic"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.rds)) == toset(["cpu", "connections", "storage", "memory"])
    error_message = "RDS CPU, connections, storage and memory are watched"
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.hosts : g.retention_in_days == 365])
    error_message = "host logs have a retention"
  }
}
