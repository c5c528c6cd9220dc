# The tracking database: RDS PostgreSQL (or MySQL) in the private subnets, encrypted,
# backed up, never publicly accessible, deletion-protected by default. Its password is
# the one written into Secrets Manager (secrets.tf); the basic-auth database beside it
# is created by the migration task.

locals {
  database_port = var.database_engine == "postgres" ? 5432 : 3306
  database_engine_version = coalesce(
    var.database_engine_version,
    var.database_engine == "postgres" ? "16.6" : "8.0.40",
  )
  database_uri_scheme = var.database_engine == "postgres" ? "postgresql+psycopg2" : "mysql+pymysql"
  database_log_exports = (
    var.database_engine == "postgres" ? ["postgresql", "upgrade"] : ["error", "slowquery"]
  )
  database_parameter_family = (
    var.database_engine == "postgres"
    ? "postgres${split(".", local.database_engine_version)[0]}"
    : "mysql${join(".", slice(split(".", local.database_engine_version), 0, 2))}"
  )
  database_parameters = var.database_engine == "postgres" ? {
    log_statement              = "ddl"
    log_min_duration_statement = "1000"
    "rds.force_ssl"            = "1"
    } : {
    # No require_secure_transport: PyMySQL does not ask for TLS unless the URI passes
    # certificate settings, so MLflow could not connect.
    slow_query_log  = "1"
    long_query_time = "1"
  }
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = local.private_subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-${var.database_engine}"
  family = local.database_parameter_family

  dynamic "parameter" {
    for_each = local.database_parameters
    content {
      name  = parameter.key
      value = parameter.value
    }
  }
}

resource "aws_iam_role" "database_monitoring" {
  name = "${var.name}-database-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "database_monitoring" {
  role       = aws_iam_role.database_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = var.database_engine
  engine_version = local.database_engine_version
  instance_class = var.database_instance_class

  db_name  = "mlflow"
  username = "mlflow"
  # The value written into Secrets Manager in the same apply, passed write-only.
  password_wo         = ephemeral.random_password.this["database_password"].result
  password_wo_version = local.secret_versions["database_password"]

  allocated_storage     = var.database_allocated_storage_gb
  max_allocated_storage = var.database_allocated_storage_gb * 10
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  port                   = local.database_port
  parameter_group_name   = aws_db_parameter_group.this.name

  multi_az                  = var.database_multi_az # checkov:skip=CKV_AWS_157:multi_az is the database_multi_az variable, off by default for cost; the README says when to turn it on
  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = local.database_log_exports
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.database_monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.this.arn
  iam_database_authentication_enabled = false # checkov:skip=CKV_AWS_161:MLflow's SQLAlchemy store connects with a password; IAM tokens expire every 15 minutes and it cannot renew them
}
