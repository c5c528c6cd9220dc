variable "region" {
  description = "AWS region of the tracking server and its bucket."
  type        = string
}

variable "name" {
  description = "Name of the tracking server, and prefix of the bucket and role names."
  type        = string
  default     = "mlflow-lifecycle"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,35}$", var.name))
    error_message = "name must be up to 36 letters, digits and single hyphens (SageMaker's tracking server name rule, kept short for the role name)."
  }
}

variable "extra_tags" {
  description = "Tags added to the project tags on every resource."
  type        = map(string)
  default     = {}
}

variable "tracking_server_size" {
  description = "Small (up to about 25 users), Medium or Large."
  type        = string
  default     = "Small"

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.tracking_server_size)
    error_message = "tracking_server_size must be Small, Medium or Large."
  }
}

variable "mlflow_version" {
  description = "MLflow version SageMaker runs; pick one SageMaker lists for your region (null lets SageMaker choose)."
  type        = string
  default     = null
}

variable "weekly_maintenance_window_start" {
  description = "When SageMaker may patch the server, as Day:HH:MM in UTC."
  type        = string
  default     = "Sun:03:00"
}

variable "sagemaker_mlflow_plugin_version" {
  description = "The sagemaker-mlflow plugin version printed in the install line output."
  type        = string
  default     = "0.5.0"
}
