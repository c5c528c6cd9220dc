# The two MLflow servers of deploy/docker-compose.yml on ECS Fargate, from the image
# built from deploy/mlflow.Dockerfile, plus the one-off migration task:
# - tracking (port 5000): runs, models, users. No task role: it holds no AWS credentials,
#   so no request to it can read the bucket.
# - artifacts (port 5500): --artifacts-only, the one task whose role reaches the bucket.
#   The load balancer sends the artifact API paths to it, so clients use one host name.
# - migrate: creates the basic-auth database if missing and upgrades both schemas; it
#   runs once per apply that changes it, before either service starts.

locals {
  # `mlflow server` exactly as the compose file runs it, argument for argument
  # (tests/unit/test_aws_terraform.py checks that the two agree).
  tracking_server_args = [
    "--backend-store-uri", "$BACKEND_STORE_URI",
    "--no-serve-artifacts",
    "--app-name", "basic-auth",
    "--host", "0.0.0.0",
    "--port", "5000",
    "--allowed-hosts", "$MLFLOW_ALLOWED_HOSTS",
    "--workers", "4",
  ]
  artifacts_server_args = [
    "--artifacts-only",
    "--serve-artifacts",
    "--artifacts-destination", "s3://$ARTIFACT_BUCKET/artifacts",
    "--app-name", "basic-auth",
    "--host", "0.0.0.0",
    "--port", "5500",
    "--allowed-hosts", "$MLFLOW_ARTIFACTS_ALLOWED_HOSTS",
    "--workers", "4",
  ]

  # The database URIs are put together inside the container, from the password the
  # task reads from Secrets Manager (letters and digits only, so no escaping).
  export_database_uris = join(" ", [
    "export",
    "BACKEND_STORE_URI=\"$DB_SCHEME://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/mlflow\"",
    "AUTH_DATABASE_URI=\"$DB_SCHEME://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/mlflow_auth\"",
  ])
  write_auth_config = "python -m deploy.auth_config /mlflow/basic_auth.ini"

  commands = {
    tracking = join(" && ", [
      local.export_database_uris,
      local.write_auth_config,
      "exec mlflow server ${join(" ", formatlist("\"%s\"", local.tracking_server_args))}",
    ])
    artifacts = join(" && ", [
      local.export_database_uris,
      local.write_auth_config,
      "exec mlflow server ${join(" ", formatlist("\"%s\"", local.artifacts_server_args))}",
    ])
    migrate = join(" && ", [
      local.export_database_uris,
      "python -m deploy.auth_database \"$AUTH_DATABASE_URI\"",
      "mlflow db upgrade \"$BACKEND_STORE_URI\"",
      "python -m mlflow.server.auth db upgrade --url \"$AUTH_DATABASE_URI\"",
    ])
  }

  image = coalesce(var.mlflow_image, "${aws_ecr_repository.mlflow.repository_url}:${var.image_tag}")

  common_environment = [
    { name = "DB_SCHEME", value = local.database_uri_scheme },
    { name = "DB_USER", value = aws_db_instance.this.username },
    { name = "DB_HOST", value = aws_db_instance.this.address },
    { name = "DB_PORT", value = tostring(local.database_port) },
    { name = "MLFLOW_AUTH_CONFIG_PATH", value = "/mlflow/basic_auth.ini" },
  ]
  environment = {
    tracking = concat(local.common_environment, [
      # Artifact locations name no host: clients reach the artifacts server through
      # the same load balancer, which routes the artifact API paths to it.
      { name = "MLFLOW_DEFAULT_ARTIFACT_ROOT", value = "mlflow-artifacts:/" },
      { name = "MLFLOW_ALLOWED_HOSTS", value = var.domain_name },
    ])
    artifacts = concat(local.common_environment, [
      { name = "ARTIFACT_BUCKET", value = module.artifacts.bucket },
      { name = "MLFLOW_ARTIFACTS_ALLOWED_HOSTS", value = var.domain_name },
    ])
    migrate = local.common_environment
  }
  server_secrets = [
    { name = "DB_PASSWORD", valueFrom = aws_secretsmanager_secret.this["database_password"].arn },
    { name = "MLFLOW_AUTH_ADMIN_PASSWORD", valueFrom = aws_secretsmanager_secret.this["admin_password"].arn },
    { name = "MLFLOW_FLASK_SERVER_SECRET_KEY", valueFrom = aws_secretsmanager_secret.this["flask_secret_key"].arn },
  ]
  secrets = {
    tracking  = local.server_secrets
    artifacts = local.server_secrets
    migrate   = [local.server_secrets[0]]
  }
  ports = {
    tracking  = 5000
    artifacts = 5500
  }
}

resource "aws_ecr_repository" "mlflow" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }
}

resource "aws_cloudwatch_log_group" "servers" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# --- Roles ---------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# What ECS itself needs to start a task: pull the image, write logs, read the secrets.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  name = "read-server-secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [for secret in aws_secretsmanager_secret.this : secret.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.this.arn]
      },
    ]
  })
}

# The artifacts server's own credentials: its prefix of the bucket, and nothing else.
resource "aws_iam_role" "artifacts" {
  name               = "${var.name}-artifacts"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "artifacts" {
  name = "read-write-artifact-prefix"
  role = aws_iam_role.artifacts.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ObjectsUnderTheArtifactPrefix"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
        Resource = ["${module.artifacts.arn}/artifacts/*"]
      },
      {
        Sid      = "ListTheArtifactPrefix"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [module.artifacts.arn]
        Condition = {
          StringLike = { "s3:prefix" = ["artifacts", "artifacts/*"] }
        }
      },
      {
        Sid      = "TheBucketKeyThroughS3Only"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.this.arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
        }
      },
    ]
  })
}

# --- Task definitions and services ---------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  for_each = local.commands

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.server_cpu
  memory                   = var.server_memory_mb
  execution_role_arn       = aws_iam_role.execution.arn
  # Only the artifacts server gets AWS credentials.
  task_role_arn = each.key == "artifacts" ? aws_iam_role.artifacts.arn : null

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = each.key
    image     = local.image
    essential = true
    # checkov:skip=CKV_AWS_336:the servers write their auth configuration under /mlflow and worker files under /tmp at start; a read-only root with scratch volumes is not verified on Fargate here
    readonlyRootFilesystem = false
    entryPoint             = ["/bin/sh", "-c"]
    command                = [each.value]
    environment            = local.environment[each.key]
    secrets                = local.secrets[each.key]
    portMappings = each.key == "migrate" ? [] : [{
      containerPort = local.ports[each.key]
      protocol      = "tcp"
    }]
    healthCheck = each.key == "migrate" ? null : {
      command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.ports[each.key]}/health', timeout=3)"]
      interval    = 10
      timeout     = 5
      retries     = 6
      startPeriod = 60
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.servers.name
        awslogs-region        = var.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "terraform_data" "migration" {
  count = var.run_migration ? 1 : 0

  # Runs again whenever the migration task changes (a new image, a new database).
  triggers_replace = [aws_ecs_task_definition.this["migrate"].arn]

  provisioner "local-exec" {
    command = "${path.module}/scripts/run-migration.sh"
    environment = {
      REGION          = var.region
      CLUSTER         = aws_ecs_cluster.this.name
      TASK_DEFINITION = aws_ecs_task_definition.this["migrate"].arn
      SUBNETS         = join(",", local.private_subnet_ids)
      SECURITY_GROUP  = aws_security_group.tasks.id
      LOG_GROUP       = aws_cloudwatch_log_group.servers.name
    }
  }

  depends_on = [aws_db_instance.this, aws_secretsmanager_secret_version.this]
}

resource "aws_ecs_service" "this" {
  for_each = local.ports

  name                              = each.key
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.this[each.key].arn
  desired_count                     = each.key == "tracking" ? var.tracking_server_count : 1
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 90
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this[each.key].arn
    container_name   = each.key
    container_port   = each.value
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [terraform_data.migration, aws_lb_listener.https]
}
