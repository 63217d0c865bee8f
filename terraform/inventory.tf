# The Ansible inventory is derived from this state. Whenever the set of servers
# changes, it is rewritten and Ansible runs (var.ansible_mode):
#   apply  - ansible/add_server.yml: installs new servers, re-renders the LB upstreams
#   render - renders the LB configuration locally only (CI without AWS)
#   none   - only writes the inventory

locals {
  # SSH reaches the app servers through the first load balancer (docs/deploy.md:
  # "SSH or SSM"); if it is down, point ProxyJump at the second one.
  jump_host = "${local.ssh_user}@${aws_eip.lb[0].public_ip}"
  ssh_user  = "admin" # default user of the Debian AMIs

  inventory = {
    all = {
      vars = {
        ansible_user                 = local.ssh_user
        ansible_python_interpreter   = "/usr/bin/python3"
        aws_region                   = var.region
        app_environment              = var.environment
        app_bucket_name              = aws_s3_bucket.files.bucket
        app_db_host                  = aws_db_instance.main.address
        app_db_port                  = aws_db_instance.main.port
        app_db_name                  = aws_db_instance.main.db_name
        app_db_user                  = var.db_app_user
        app_db_migrator_user         = var.db_migrator_user
        app_db_auth                  = var.db_iam_authentication ? "iam" : "password"
        db_master_secret_arn         = aws_db_instance.main.master_user_secret[0].secret_arn
        app_secret_key_parameter     = local.secret_key_parameter_name
        cloudwatch_log_group_prefix  = "/${var.project}/${var.environment}"
        cloudwatch_metrics_namespace = local.metrics_namespace
        app_image_repository         = aws_ecr_repository.app.repository_url
        nginx_lb_public_ip           = aws_eip.lb[0].public_ip
        lb_subnet_cidrs              = aws_subnet.public[*].cidr_block
        app_domain                   = var.domain_name
        nginx_lb_tls_bucket          = aws_s3_bucket.ops.bucket
        nginx_lb_tls_prefix          = local.tls_prefix
      }
      children = {
        lb = {
          hosts = {
            for index, server in aws_instance.lb : server.tags.Name => {
              ansible_host      = aws_eip.lb[index].public_ip
              private_ip        = server.private_ip
              public_ip         = aws_eip.lb[index].public_ip
              availability_zone = server.availability_zone
            }
          }
        }
        app = {
          hosts = {
            for server in aws_instance.app : server.tags.Name => {
              ansible_host            = server.private_ip
              private_ip              = server.private_ip
              availability_zone       = server.availability_zone
              ansible_ssh_common_args = "-o ProxyJump=${local.jump_host}"
            }
          }
        }
      }
    }
  }
}

resource "terraform_data" "ansible" {
  # Re-run whenever a server is added, removed or replaced.
  triggers_replace = {
    app = aws_instance.app[*].id
    lb  = aws_instance.lb[*].id
  }

  provisioner "local-exec" {
    command = "bash ${path.module}/../infra/terraform-hook.sh"
    environment = {
      INVENTORY_JSON = jsonencode(local.inventory)
      INVENTORY_PATH = abspath("${path.module}/${var.inventory_path}")
      ANSIBLE_MODE   = var.ansible_mode
      ANSIBLE_DIR    = abspath("${path.module}/../ansible")
    }
  }
}
