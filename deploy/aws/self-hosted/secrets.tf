# One customer-managed key for everything this module stores (database, bucket, logs,
# secrets, images), and the three secrets the servers read. Each secret value is made
# by an ephemeral random_password and written through a write-only argument, so it is
# in no variable, no output, no plan and no state file.

resource "aws_kms_key" "this" {
  description             = "${var.name}: database, artifacts, secrets, logs and images"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheModuleLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*${var.name}*"
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

locals {
  secret_names = {
    database_password = "the database user's password"
    admin_password    = "the MLflow admin user's first password"
    flask_secret_key  = "the servers' Flask session secret"
  }
  # Bump a value here to write a new random value into that secret (then restart tasks).
  secret_versions = {
    database_password = 1
    admin_password    = 1
    flask_secret_key  = 1
  }
}

resource "aws_secretsmanager_secret" "this" {
  for_each = local.secret_names

  name                    = "${var.name}/${replace(each.key, "_", "-")}"
  description             = "${var.name}: ${each.value}"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  # checkov:skip=CKV2_AWS_57:the database password is written once through a write-only argument and the servers read it at start; rotation would need a Lambda rotator and a rolling restart, which this module leaves to the operator
}

ephemeral "random_password" "this" {
  for_each = local.secret_names

  length = 40
  # Letters and digits only: the database password goes into a connection URI unescaped.
  special = false
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each = local.secret_names

  secret_id                = aws_secretsmanager_secret.this[each.key].id
  secret_string_wo         = ephemeral.random_password.this[each.key].result
  secret_string_wo_version = local.secret_versions[each.key]
}
