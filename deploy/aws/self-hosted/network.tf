# The network: an existing VPC and subnets when vpc_id is given, otherwise a minimal
# one: two private subnets (database, tasks, internal load balancer), two public ones
# (the NAT gateway, and the load balancer when it faces the internet), flow logs on.

locals {
  create_vpc = var.vpc_id == null
  vpc_id     = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  private_subnet_ids = (
    local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  )
  public_subnet_ids = (
    local.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  )
  load_balancer_subnet_ids = (
    var.load_balancer_internal ? local.private_subnet_ids : local.public_subnet_ids
  )
  zones = slice(data.aws_availability_zones.available.names, 0, 2)
}

# Two named zones (a fixed set, so a zone AWS adds later never moves a subnet).
data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-name"
    values = coalesce(var.availability_zones, ["${var.region}a", "${var.region}b"])
  }
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }

  lifecycle {
    precondition {
      condition     = length(var.private_subnet_ids) == 0 && length(var.public_subnet_ids) == 0
      error_message = "private_subnet_ids and public_subnet_ids are used only with vpc_id."
    }
  }
}

# The VPC's default security group allows nothing; every group below is explicit.
resource "aws_default_security_group" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_subnet" "private" {
  count = local.create_vpc ? 2 : 0

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-private-${local.zones[count.index]}" }
}

resource "aws_subnet" "public" {
  count = local.create_vpc ? 2 : 0

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index + 8)
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public-${local.zones[count.index]}" }
}

resource "aws_internet_gateway" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_eip" "nat" {
  count  = local.create_vpc ? 1 : 0
  domain = "vpc"
}

resource "aws_nat_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
}

resource "aws_route_table" "private" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[0].id
  }
}

resource "aws_route_table_association" "public" {
  count          = local.create_vpc ? 2 : 0
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_route_table_association" "private" {
  count          = local.create_vpc ? 2 : 0
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

resource "aws_flow_log" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id               = aws_vpc.this[0].id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  count = local.create_vpc ? 1 : 0

  name              = "/vpc/${var.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_iam_role" "flow_logs" {
  count = local.create_vpc ? 1 : 0

  name = "${var.name}-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  count = local.create_vpc ? 1 : 0

  name = "write-flow-logs"
  role = aws_iam_role.flow_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = "${aws_cloudwatch_log_group.flow_logs[0].arn}:*"
    }]
  })
}

# --- Security groups: clients -> load balancer -> server tasks -> database ------------

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-load-balancer"
  description = "HTTPS (and HTTP, redirected) from the team's networks only"
  vpc_id      = local.vpc_id

  ingress {
    description = "HTTPS from the team's networks"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.client_cidr_blocks
  }

  ingress {
    description = "HTTP from the team's networks, answered with a redirect to HTTPS"
    # checkov:skip=CKV_AWS_260:port 80 only redirects to HTTPS, and only for client_cidr_blocks, whose validation refuses 0.0.0.0/0
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = var.client_cidr_blocks
  }

  egress {
    description     = "To the tracking and artifacts servers"
    from_port       = 5000
    to_port         = 5500
    protocol        = "tcp"
    security_groups = [aws_security_group.tasks.id]
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "MLflow server tasks: reached from the load balancer only"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_load_balancer" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Tracking (5000) and artifacts (5500) servers, from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5500
  referenced_security_group_id = aws_security_group.load_balancer.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_database" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "The database"
  ip_protocol                  = "tcp"
  from_port                    = local.database_port
  to_port                      = local.database_port
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_aws_apis" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, S3, Secrets Manager, CloudWatch Logs) through the NAT gateway or VPC endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0" # checkov:skip=CKV_AWS_382:egress only, HTTPS only: the tasks must reach AWS service endpoints, whose addresses are not fixed
}

resource "aws_security_group" "database" {
  name        = "${var.name}-database"
  description = "The tracking database: reached from the server tasks only"
  vpc_id      = local.vpc_id

  ingress {
    description     = "Database port, from the server tasks"
    from_port       = local.database_port
    to_port         = local.database_port
    protocol        = "tcp"
    security_groups = [aws_security_group.tasks.id]
  }
}
