output "tracking_uri" {
  description = "Set MLFLOW_TRACKING_URI to this (point domain_name at load_balancer_dns_name first)."
  value       = "https://${var.domain_name}"
}

output "load_balancer_dns_name" {
  description = "Make domain_name a CNAME (or Route 53 alias) of this name."
  value       = aws_lb.this.dns_name
}

output "admin_password_secret_arn" {
  description = "Secrets Manager ARN of the admin user's first password (read it with aws secretsmanager get-secret-value)."
  value       = aws_secretsmanager_secret.this["admin_password"].arn
}

output "ecr_repository_url" {
  description = "Push the image built from deploy/mlflow.Dockerfile here, tagged image_tag."
  value       = aws_ecr_repository.mlflow.repository_url
}

output "artifact_bucket" {
  description = "The artifact bucket; only the artifacts server's role can reach it."
  value       = module.artifacts.bucket
}

output "database_endpoint" {
  description = "The database's private address and port."
  value       = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

output "log_group" {
  description = "CloudWatch log group of the servers and the migration task (streams tracking/, artifacts/, migrate/)."
  value       = aws_cloudwatch_log_group.servers.name
}

output "ecs_cluster" {
  description = "The ECS cluster running the two services, tracking and artifacts."
  value       = aws_ecs_cluster.this.name
}
