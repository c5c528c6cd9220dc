# The load balancer: HTTPS only (HTTP answers with a redirect), open to the team's
# networks only. The artifact API paths go to the artifacts server, the rest to the
# tracking server, so one host name serves both, as the compose file's two ports do.

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.load_balancer_internal
  subnets                    = local.load_balancer_subnet_ids
  security_groups            = [aws_security_group.load_balancer.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # Long enough for a large artifact upload through the artifacts server.
  idle_timeout = 300
  # checkov:skip=CKV_AWS_91:access logs need a second bucket with an ELB-writable policy; both servers log every request with its user to CloudWatch
  # checkov:skip=CKV2_AWS_28:a WAF is a separate subscription; the balancer is internal by default and open only to client_cidr_blocks, and every request needs a login

  lifecycle {
    precondition {
      condition     = length(local.load_balancer_subnet_ids) >= 2
      error_message = "The load balancer needs at least two subnets: private_subnet_ids (internal) or public_subnet_ids (internet-facing)."
    }
  }
}

resource "aws_lb_target_group" "this" {
  for_each = local.ports

  name        = "${var.name}-${each.key}"
  port        = each.value
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = local.vpc_id
  # checkov:skip=CKV_AWS_378:mlflow server speaks plain HTTP; TLS ends at the balancer and the hop to the tasks stays inside the VPC, open only to the balancer's security group

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["tracking"].arn
  }
}

resource "aws_lb_listener_rule" "artifacts" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["artifacts"].arn
  }

  condition {
    path_pattern {
      values = ["/api/2.0/mlflow-artifacts/*", "/ajax-api/2.0/mlflow-artifacts/*"]
    }
  }
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}
