terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
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
    Component = "sagemaker-mlflow-tracking-server"
    ManagedBy = "terraform"
  })
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}
