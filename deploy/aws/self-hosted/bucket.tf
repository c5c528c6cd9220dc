# The artifact bucket (versioned, encrypted with the module's key, no public access,
# TLS only; see ../modules/private-bucket). The artifacts server's task role reads and
# writes under artifacts/ and nothing else (servers.tf); users get no bucket rights,
# they go through the artifacts server.

module "artifacts" {
  source = "../modules/private-bucket"

  name_prefix = "${var.name}-artifacts-"
  kms_key_arn = aws_kms_key.this.arn
}
