resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_key_pair" "deploy" {
  key_name_prefix = "${local.name}-deploy-"
  public_key      = var.ssh_public_key
}

locals {
  # Settings every instance shares: IMDSv2 only (hop limit 2 so a container on
  # the host still reaches the metadata service), encrypted gp3 root volume.
  metadata_http_tokens   = "required"
  metadata_hop_limit     = 2
  root_volume_encryption = true
}

# Two nginx load balancers, one per zone; Route 53 failover records send clients
# to the first while its health check passes, else to the second (dns.tf).
resource "aws_instance" "lb" {
  count = 2

  ami                         = var.ami_id
  instance_type               = var.lb_instance_type
  subnet_id                   = aws_subnet.public[count.index].id
  vpc_security_group_ids      = [aws_security_group.lb.id]
  key_name                    = aws_key_pair.deploy.key_name
  iam_instance_profile        = aws_iam_instance_profile.lb.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = local.metadata_http_tokens
    http_put_response_hop_limit = local.metadata_hop_limit
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = local.root_volume_encryption
    kms_key_id            = aws_kms_key.main.arn
    delete_on_termination = true
  }

  tags = { Name = "${local.name}-lb-${count.index + 1}", Role = "lb" }

  lifecycle {
    ignore_changes = [ami]
  }
}

resource "aws_eip" "lb" {
  count = 2

  domain   = "vpc"
  instance = aws_instance.lb[count.index].id
  tags     = { Name = "${local.name}-lb-${count.index + 1}" }

  depends_on = [aws_internet_gateway.main]
}

# The single load balancer of earlier versions becomes the first of the two.
moved {
  from = aws_instance.lb
  to   = aws_instance.lb[0]
}

moved {
  from = aws_eip.lb
  to   = aws_eip.lb[0]
}

resource "aws_instance" "app" {
  count = var.app_count

  ami                         = var.ami_id
  instance_type               = var.app_instance_type
  subnet_id                   = aws_subnet.private[count.index % 2].id
  vpc_security_group_ids      = [aws_security_group.app.id]
  key_name                    = aws_key_pair.deploy.key_name
  iam_instance_profile        = aws_iam_instance_profile.app.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = local.metadata_http_tokens
    http_put_response_hop_limit = local.metadata_hop_limit
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = local.root_volume_encryption
    kms_key_id            = aws_kms_key.main.arn
    delete_on_termination = true
  }

  tags = { Name = "${local.name}-app-${count.index + 1}", Role = "app" }

  lifecycle {
    # A new AMI is rolled out by replacing servers one at a time, not by a plan
    # that replaces all of them at once.
    ignore_changes = [ami]
  }
}
