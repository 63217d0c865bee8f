# Security groups. Rules are separate resources so groups can reference each
# other (app <- lb, rds <- app) without dependency cycles.

resource "aws_security_group" "lb" {
  name        = "${local.name}-lb"
  description = "nginx load balancer: HTTP/HTTPS from anywhere, SSH from the admin network"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.name}-lb" }
}

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "application servers: port 8000 from the load balancer only"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.name}-app" }
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "PostgreSQL: port 5432 from the application servers only"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.name}-db" }
}

# --- load balancer -----------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "lb_http" {
  #checkov:skip=CKV_AWS_260:Public web entry point; port 80 only redirects to HTTPS and serves ACME challenges.
  security_group_id = aws_security_group.lb.id
  description       = "HTTP from anywhere (redirects to HTTPS)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "lb_https" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS from anywhere"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "lb_ssh" {
  security_group_id = aws_security_group.lb.id
  description       = "SSH from the admin network only (the LB is also the SSH jump host)"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.admin_cidr
}

resource "aws_vpc_security_group_egress_rule" "lb_to_app" {
  security_group_id            = aws_security_group.lb.id
  description                  = "proxy to the app servers"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_vpc_security_group_egress_rule" "lb_ssh_to_app" {
  security_group_id            = aws_security_group.lb.id
  description                  = "SSH jump to the app servers"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.app.id
}

resource "aws_vpc_security_group_egress_rule" "lb_https_out" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS out: package mirrors, certificate authority, AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "lb_http_out" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTP out: Debian package mirrors"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

# --- app servers ---------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "app_from_lb" {
  security_group_id            = aws_security_group.app.id
  description                  = "nginx on the app server, from the load balancer only"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.lb.id
}

resource "aws_vpc_security_group_ingress_rule" "app_ssh_from_lb" {
  #checkov:skip=CKV_AWS_24:False positive: the source is the load balancer's security group (referenced_security_group_id), not 0.0.0.0/0; asserted in tests/security.tftest.hcl.
  security_group_id            = aws_security_group.app.id
  description                  = "SSH through the jump host only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.lb.id
}

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_vpc_security_group_egress_rule" "app_https_out" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS out through NAT: image registry, S3, Secrets Manager, package mirrors"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "app_http_out" {
  security_group_id = aws_security_group.app.id
  description       = "HTTP out through NAT: Debian package mirrors"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

# --- database --------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the app servers only"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.app.id
}
