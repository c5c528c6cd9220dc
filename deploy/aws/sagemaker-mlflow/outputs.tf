output "tracking_server_arn" {
  description = "The tracking server's ARN."
  value       = aws_sagemaker_mlflow_tracking_server.this.arn
}

output "mlflow_tracking_uri" {
  description = "What to export: with the sagemaker-mlflow plugin installed, MLflow takes the ARN as its tracking URI."
  value       = "export MLFLOW_TRACKING_URI=${aws_sagemaker_mlflow_tracking_server.this.arn}"
}

output "plugin_install" {
  description = "The plugin that signs MLflow's requests with your AWS credentials."
  value       = "pip install sagemaker-mlflow==${var.sagemaker_mlflow_plugin_version}"
}

output "tracking_server_url" {
  description = "The server's HTTPS address (the UI opens through a presigned URL: aws sagemaker create-presigned-mlflow-tracking-server-url)."
  value       = aws_sagemaker_mlflow_tracking_server.this.tracking_server_url
}

output "artifact_bucket" {
  description = "The artifact bucket the server writes to."
  value       = module.artifacts.bucket
}
