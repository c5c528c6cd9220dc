# Versions this module is written for. Write-only arguments (the database and secret
# values below) need Terraform 1.11+, AWS provider 6+ and random 3.7+.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource this module creates carries the project tags.
  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  tags = merge(var.extra_tags, {
    Project   = "mlflow-lifecycle"
    Component = "team-tracking-server"
    ManagedBy = "terraform"
  })
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}
