# Eyes on production: logs off the hosts (CloudWatch agent, ansible role
# cloudwatch_agent), metrics, and alarms to one SNS topic.
#
#   log group                          what                                   from
#   /<project>/<env>/app               gunicorn/Django (container, journald)  app servers
#   /<project>/<env>/nginx-app         per-server nginx access/error          app servers
#   /<project>/<env>/nginx-lb          LB access log (JSON) and error log    load balancers
#   /<project>/<env>/lb-health         health checker summaries (JSON)        load balancers
#
# Alarms: 5xx rate and p95 latency at the load balancers, app servers out of
# rotation, a load balancer failing its Route 53 check, RDS CPU, connections and
# free storage, TLS certificate days left, CPU credits and disk on the hosts.

locals {
  log_groups = {
    app       = "app"
    nginx_app = "nginx-app"
    nginx_lb  = "nginx-lb"
    lb_health = "lb-health"
  }
  metrics_namespace = "Backoffice/${var.environment}"
}

resource "aws_cloudwatch_log_group" "hosts" {
  for_each = local.log_groups

  name              = "/${var.project}/${var.environment}/${each.value}"
  retention_in_days = var.app_log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.id
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- from the load balancers' JSON access log -----------------------------------

resource "aws_cloudwatch_log_metric_filter" "lb_requests" {
  name           = "${local.name}-lb-requests"
  log_group_name = aws_cloudwatch_log_group.hosts["nginx_lb"].name
  pattern        = "{ $.status = * }"

  metric_transformation {
    name          = "Requests"
    namespace     = local.metrics_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "lb_5xx" {
  name           = "${local.name}-lb-5xx"
  log_group_name = aws_cloudwatch_log_group.hosts["nginx_lb"].name
  pattern        = "{ $.status >= 500 }"

  metric_transformation {
    name          = "Responses5xx"
    namespace     = local.metrics_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "lb_latency" {
  name           = "${local.name}-lb-latency"
  log_group_name = aws_cloudwatch_log_group.hosts["nginx_lb"].name
  pattern        = "{ $.request_time >= 0 }"

  metric_transformation {
    name      = "RequestSeconds"
    namespace = local.metrics_namespace
    value     = "$.request_time"
    unit      = "Seconds"
  }
}

resource "aws_cloudwatch_log_metric_filter" "unhealthy_hosts" {
  name           = "${local.name}-unhealthy-hosts"
  log_group_name = aws_cloudwatch_log_group.hosts["lb_health"].name
  pattern        = "{ $.unhealthy_count >= 0 }"

  metric_transformation {
    name      = "UnhealthyHosts"
    namespace = local.metrics_namespace
    value     = "$.unhealthy_count"
  }
}

resource "aws_cloudwatch_metric_alarm" "lb_5xx_rate" {
  alarm_name          = "${local.name}-5xx-rate"
  alarm_description   = "More than 2% of responses at the load balancers are 5xx (10 minutes)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 2
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 20, 100 * errors / requests, 0)"
    label       = "5xx percent"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      metric_name = "Responses5xx"
      namespace   = local.metrics_namespace
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      metric_name = "Requests"
      namespace   = local.metrics_namespace
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "lb_latency" {
  alarm_name          = "${local.name}-latency-p95"
  alarm_description   = "95th percentile of request time at the load balancers above 2 s (15 minutes)."
  namespace           = local.metrics_namespace
  metric_name         = "RequestSeconds"
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 3
  threshold           = 2
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${local.name}-unhealthy-hosts"
  alarm_description   = "An app server answers /readyz with an error and is out of rotation (health checker on the LBs). Missing data: the checker itself stopped reporting."
  namespace           = local.metrics_namespace
  metric_name         = "UnhealthyHosts"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "tls_certificate" {
  alarm_name          = "${local.name}-tls-certificate-expiry"
  alarm_description   = "The certificate a load balancer serves expires in less than 14 days (renewal on the LBs is failing), or no LB reported for a day."
  namespace           = local.metrics_namespace
  metric_name         = "CertificateDaysLeft"
  statistic           = "Minimum"
  period              = 21600
  evaluation_periods  = 4
  datapoints_to_alarm = 1
  threshold           = 14
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "lb_dns_health" {
  # Route 53 publishes health-check metrics in us-east-1 only; with the provider
  # in another region this alarm would need a second provider. The metric is the
  # load balancer's own reachability as the world sees it.
  count = local.dns_enabled && var.region == "us-east-1" ? 2 : 0

  alarm_name          = "${local.name}-lb-${count.index + 1}-health-check"
  alarm_description   = "Route 53 sees load balancer ${count.index + 1} as unhealthy (failover is serving, or the site is down)."
  namespace           = "AWS/Route53"
  metric_name         = "HealthCheckStatus"
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  dimensions          = { HealthCheckId = aws_route53_health_check.lb[count.index].id }
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- RDS ----------------------------------------------------------------------

locals {
  rds_alarms = {
    cpu = {
      metric = "CPUUtilization", stat = "Average", op = "GreaterThanThreshold", threshold = 80,
      what   = "RDS CPU above 80% for 15 minutes."
    }
    connections = {
      metric = "DatabaseConnections", stat = "Maximum", op = "GreaterThanThreshold", threshold = var.db_connections_alarm,
      what   = "RDS connections near max_connections (see docs/deploy.md, pool sizing)."
    }
    storage = {
      metric = "FreeStorageSpace", stat = "Minimum", op = "LessThanThreshold", threshold = 2 * 1024 * 1024 * 1024,
      what   = "Less than 2 GiB of free RDS storage (autoscaling stopped at its maximum?)."
    }
    memory = {
      metric = "FreeableMemory", stat = "Minimum", op = "LessThanThreshold", threshold = 128 * 1024 * 1024,
      what   = "Less than 128 MiB of freeable RDS memory."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rds" {
  for_each = local.rds_alarms

  alarm_name          = "${local.name}-rds-${each.key}"
  alarm_description   = each.value.what
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  statistic           = each.value.stat
  period              = 300
  evaluation_periods  = 3
  threshold           = each.value.threshold
  comparison_operator = each.value.op
  dimensions          = { DBInstanceIdentifier = aws_db_instance.main.identifier }
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- hosts (CloudWatch agent metrics and EC2's own) ------------------------------

resource "aws_cloudwatch_metric_alarm" "host_disk" {
  alarm_name          = "${local.name}-host-disk"
  alarm_description   = "A server's root file system is more than 85% full (CloudWatch agent)."
  namespace           = local.metrics_namespace
  metric_name         = "disk_used_percent"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 85
  comparison_operator = "GreaterThanThreshold"
  dimensions          = { path = "/" }
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "instance_status" {
  for_each = merge(
    { for i, server in aws_instance.lb : "lb-${i + 1}" => server.id },
    { for i, server in aws_instance.app : "app-${i + 1}" => server.id },
  )

  alarm_name          = "${local.name}-${each.key}-status-check"
  alarm_description   = "EC2 status check failing on ${each.key}."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  dimensions          = { InstanceId = each.value }
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
