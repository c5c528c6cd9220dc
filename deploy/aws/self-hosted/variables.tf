variable "region" {
  description = "AWS region to create everything in."
  type        = string
}

variable "name" {
  description = "Prefix for every resource name (letters, digits and hyphens)."
  type        = string
  default     = "mlflow-team"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "extra_tags" {
  description = "Tags added to the project tags on every resource."
  type        = map(string)
  default     = {}
}

# --- Network -------------------------------------------------------------------------

variable "vpc_id" {
  description = "An existing VPC to use. Leave null to create a minimal one (two private and two public subnets, one NAT gateway)."
  type        = string
  default     = null
}

variable "private_subnet_ids" {
  description = "With vpc_id: at least two private subnets in different zones, for the database, the tasks and an internal load balancer. They need a route to ECR, S3, Secrets Manager and CloudWatch Logs (a NAT gateway or VPC endpoints)."
  type        = list(string)
  default     = []
}

variable "public_subnet_ids" {
  description = "With vpc_id and load_balancer_internal = false: at least two public subnets for the load balancer."
  type        = list(string)
  default     = []
}

variable "availability_zones" {
  description = "The two zones of the VPC created when vpc_id is null; null means <region>a and <region>b."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null || length(coalesce(var.availability_zones, [])) == 2
    error_message = "availability_zones must name exactly two zones."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created when vpc_id is null."
  type        = string
  default     = "10.42.0.0/16"
}

variable "client_cidr_blocks" {
  description = "The networks your team reaches the server from (office, VPN). The load balancer accepts nobody else."
  type        = list(string)

  validation {
    condition     = length(var.client_cidr_blocks) > 0 && alltrue([for block in var.client_cidr_blocks : !contains(["0.0.0.0/0", "::/0"], block)])
    error_message = "client_cidr_blocks must name your networks; the whole internet (0.0.0.0/0, ::/0) is refused."
  }
}

# --- Load balancer -------------------------------------------------------------------

variable "domain_name" {
  description = "The host name users reach the server at (the certificate's name); the servers refuse any other Host header."
  type        = string
}

variable "certificate_arn" {
  description = "ARN of an ACM certificate for domain_name, in the same region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "load_balancer_internal" {
  description = "Keep the load balancer inside the VPC (reached over VPN or peering). Set false to face the internet, still open only to client_cidr_blocks."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Protect the database and the load balancer from deletion. Turn off only to destroy the stack."
  type        = bool
  default     = true
}

# --- Database ------------------------------------------------------------------------

variable "database_engine" {
  description = "postgres or mysql."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.database_engine)
    error_message = "database_engine must be postgres or mysql."
  }
}

variable "database_engine_version" {
  description = "Engine version; null picks the module's tested default (PostgreSQL 16, MySQL 8.0)."
  type        = string
  default     = null
}

variable "database_instance_class" {
  description = "RDS instance class (Performance Insights, which the module turns on, needs medium or larger)."
  type        = string
  default     = "db.t4g.medium"
}

variable "database_allocated_storage_gb" {
  description = "Initial storage in GiB; it grows on its own up to ten times this."
  type        = number
  default     = 20

  validation {
    condition     = var.database_allocated_storage_gb >= 20 && var.database_allocated_storage_gb <= 1000
    error_message = "database_allocated_storage_gb must be between 20 and 1000."
  }
}

variable "database_multi_az" {
  description = "Run a standby in a second zone (doubles the database cost)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups kept."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

# --- Servers -------------------------------------------------------------------------

variable "mlflow_image" {
  description = "The server image built from deploy/mlflow.Dockerfile. Null uses this module's ECR repository with image_tag."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Tag of the image pushed to this module's ECR repository."
  type        = string
  default     = "3.17.2"
}

variable "server_cpu" {
  description = "Fargate CPU units for each server task (1024 = one vCPU)."
  type        = number
  default     = 1024
}

variable "server_memory_mb" {
  description = "Fargate memory for each server task, in MiB."
  type        = number
  default     = 2048
}

variable "tracking_server_count" {
  description = "Tracking server tasks behind the load balancer."
  type        = number
  default     = 1

  validation {
    condition     = var.tracking_server_count >= 1 && var.tracking_server_count <= 10
    error_message = "tracking_server_count must be between 1 and 10."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the servers' and the VPC's logs."
  type        = number
  default     = 365
}

variable "run_migration" {
  description = "Run the database migration task (needs the aws CLI where terraform runs) before starting the servers."
  type        = bool
  default     = true
}
