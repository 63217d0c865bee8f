# Failover between the two nginx load balancers: Route 53 failover records.
#
# Why Route 53 and not an Elastic IP moved by a health check: Route 53's health
# checkers run outside our VPC and zones (a zone outage cannot take the checker
# down with it), need no code of ours and no AWS permissions on the load
# balancers, and fail over in about 30 s (3 x 10 s checks) plus the record's
# 60 s TTL. Moving an EIP would need our own watcher (a Lambda or a peer
# process with ec2:AssociateAddress) that must itself survive the failure it
# detects. The price: clients that cache DNS longer than the TTL keep trying the
# failed address for a while (browsers retry the other quickly in practice).
#
# The health check asks /readyz through the load balancer over HTTPS, so it
# fails when nginx, TLS, or every app server behind it is not ready.

locals {
  dns_enabled = var.route53_zone_id != "" && var.domain_name != ""
  lb_roles    = ["PRIMARY", "SECONDARY"]
}

resource "aws_route53_health_check" "lb" {
  count = local.dns_enabled ? 2 : 0

  ip_address        = aws_eip.lb[count.index].public_ip
  fqdn              = var.domain_name
  port              = 443
  type              = "HTTPS"
  resource_path     = "/readyz"
  enable_sni        = true
  request_interval  = 10
  failure_threshold = 3
  measure_latency   = true

  tags = { Name = "${local.name}-lb-${count.index + 1}" }
}

resource "aws_route53_record" "app" {
  count = local.dns_enabled ? 2 : 0

  zone_id         = var.route53_zone_id
  name            = var.domain_name
  type            = "A"
  ttl             = 60
  records         = [aws_eip.lb[count.index].public_ip]
  set_identifier  = "lb-${count.index + 1}"
  health_check_id = aws_route53_health_check.lb[count.index].id

  failover_routing_policy {
    type = local.lb_roles[count.index]
  }
}
