# SageMaker's managed MLflow tracking server: SageMaker runs the server and its
# database; this module makes its artifact bucket and the role SageMaker uses to reach
# that bucket, and nothing more. Users authenticate with IAM (SigV4 through the
# sagemaker-mlflow plugin) instead of basic-auth.

resource "aws_kms_key" "artifacts" {
  description             = "${var.name}: MLflow artifacts"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

module "artifacts" {
  source = "../modules/private-bucket"

  name_prefix = "${lower(var.name)}-artifacts-"
  kms_key_arn = aws_kms_key.artifacts.arn
}

# The role SageMaker's tracking server assumes: this bucket (and its key), nothing else.
resource "aws_iam_role" "tracking_server" {
  name = "${var.name}-tracking-server"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "tracking_server" {
  name = "artifact-bucket-only"
  role = aws_iam_role.tracking_server.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "TheArtifactBucket"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
        Resource = [module.artifacts.arn, "${module.artifacts.arn}/*"]
      },
      {
        Sid      = "TheBucketKeyThroughS3Only"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.artifacts.arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
        }
      },
    ]
  })
}

resource "aws_sagemaker_mlflow_tracking_server" "this" {
  tracking_server_name            = var.name
  role_arn                        = aws_iam_role.tracking_server.arn
  artifact_store_uri              = "s3://${module.artifacts.bucket}/artifacts"
  tracking_server_size            = var.tracking_server_size
  mlflow_version                  = var.mlflow_version
  weekly_maintenance_window_start = var.weekly_maintenance_window_start
  automatic_model_registration    = false

  depends_on = [aws_iam_role_policy.tracking_server, module.artifacts]
}
