"""Static checks of the Terraform in deploy/aws/, parsed with python-hcl2.

No terraform binary and no AWS account are used: these tests read the configuration
as written. They prove its structure (nothing public, no secret in a variable default
or an output, the project tags on every resource, the same ``mlflow server`` arguments
as deploy/docker-compose.yml), not that ``terraform apply`` succeeds.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AWS = ROOT / "deploy" / "aws"
MODULES = ["self-hosted", "sagemaker-mlflow"]
# The shared child module both root modules keep their artifacts in.
BUCKET_MODULE = "modules/private-bucket"
PROJECT_TAGS = {"Project", "Component", "ManagedBy"}
SECRET_WORDS = re.compile(r"password|secret|token|private_key|access_key", re.IGNORECASE)
# Resources that are no cloud object, so carry no tags.
NOT_CLOUD_RESOURCES = {"terraform_data"}


def plain(value: Any) -> Any:
    """python-hcl2's output without its quoting and comment bookkeeping."""
    if isinstance(value, dict):
        return {
            plain(key): plain(item)
            for key, item in value.items()
            if key not in ("__comments__", "__inline_comments__", "__is_block__")
        }
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load(module: str) -> dict[str, list[Any]]:
    """Every top-level block of the module's .tf files, by kind."""
    blocks: dict[str, list[Any]] = {}
    for path in sorted((AWS / module).glob("*.tf")):
        with path.open() as handle:
            parsed = plain(hcl2.load(handle))
        for kind, items in parsed.items():
            blocks.setdefault(kind, []).extend(items)
    return blocks


def resources(module: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource block."""
    found = []
    for block in load(module).get("resource", []):
        for kind, named in block.items():
            for name, body in named.items():
                found.append((kind, name, body))
    return found


def of_type(module: str, kind: str) -> list[dict[str, Any]]:
    return [body for found, _, body in resources(module) if found == kind]


def variables(module: str) -> dict[str, dict[str, Any]]:
    return {name: body for block in load(module)["variable"] for name, body in block.items()}


def outputs(module: str) -> dict[str, dict[str, Any]]:
    return {name: body for block in load(module)["output"] for name, body in block.items()}


def locals_of(module: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in load(module).get("locals", []):
        merged.update(block)
    return merged


@pytest.mark.parametrize("module", MODULES)
def test_static_each_module_documents_its_inputs_and_outputs(module: str) -> None:
    folder = AWS / module
    for name in ("variables.tf", "outputs.tf", "README.md", "terraform.tfvars.example"):
        assert (folder / name).is_file(), name
    readme = (folder / "README.md").read_text()
    for name in [*variables(module), *outputs(module)]:
        assert f"| `{name}` |" in readme, f"{module}/README.md has no table row for {name}"
    example = (folder / "terraform.tfvars.example").read_text()
    assigned = set(re.findall(r"^#?\s*([a-z_]+)\s*=", example, flags=re.MULTILINE))
    assert assigned <= set(variables(module)), assigned - set(variables(module))
    required = {name for name, body in variables(module).items() if "default" not in body}
    uncommented = set(re.findall(r"^([a-z_]+)\s*=", example, flags=re.MULTILINE))
    assert required <= uncommented, f"example lacks required inputs {required - uncommented}"


def module_calls(module: str) -> dict[str, dict[str, Any]]:
    return {name: body for block in load(module).get("module", []) for name, body in block.items()}


@pytest.mark.parametrize("module", MODULES)
def test_static_every_resource_carries_the_project_tags(module: str) -> None:
    # A child module has no provider of its own: the caller's default_tags tag it too.
    for name, call in module_calls(module).items():
        assert call["source"] == "../modules/private-bucket", name
        for kind, _, body in resources(BUCKET_MODULE):
            assert kind.startswith("aws_"), kind
            assert "tags" not in body, kind
    (provider,) = [block["aws"] for block in load(module)["provider"]]
    (default_tags,) = provider["default_tags"]
    assert default_tags["tags"] == "${local.tags}"
    tags = locals_of(module)["tags"]
    for key in PROJECT_TAGS:
        assert f"{key} = " in tags, f"local.tags lacks {key}"
    # default_tags covers every aws_ resource; nothing overrides a project tag.
    for kind, name, body in resources(module):
        assert kind.startswith("aws_") or kind in NOT_CLOUD_RESOURCES, f"{kind}.{name}"
        own = str(body.get("tags", ""))
        assert not any(f"{key} =" in own for key in PROJECT_TAGS), f"{kind}.{name}"


@pytest.mark.parametrize("module", MODULES)
def test_static_no_secret_is_a_variable_default_an_output_or_a_stored_argument(module: str) -> None:
    for name in variables(module):
        assert not SECRET_WORDS.search(name), f"variable {name} looks like a secret"
    for name, body in outputs(module).items():
        value = str(body["value"])
        assert "ephemeral." not in value, name
        assert "random_password" not in value, name
        assert "secret_version" not in value, name
        # A secret is only ever named by its ARN.
        for reference in re.findall(r"aws_secretsmanager_secret\.[^}]*", value):
            assert reference.endswith(".arn"), f"output {name} gives {reference}"
    for kind, name, body in resources(module):
        for argument in ("password", "secret_string", "master_password"):
            assert argument not in body, f"{kind}.{name}.{argument} would be kept in state"
        for argument, value in body.items():
            if "ephemeral." in str(value):
                assert argument.endswith("_wo"), f"{kind}.{name}.{argument} is not write-only"
    example = (AWS / module / "terraform.tfvars.example").read_text()
    for name in re.findall(r"^#?\s*([a-z_]+)\s*=", example, flags=re.MULTILINE):
        assert not SECRET_WORDS.search(name), f"the example sets {name}"


def security_group_ingress(module: str) -> list[tuple[str, dict[str, Any]]]:
    rules = []
    for kind, name, body in resources(module):
        if kind == "aws_security_group":
            rules += [(name, rule) for rule in body.get("ingress", [])]
        if kind == "aws_vpc_security_group_ingress_rule":
            rules.append((name, body))
    return rules


def test_static_each_root_module_keeps_its_artifacts_in_the_shared_private_bucket() -> None:
    for module in MODULES:
        assert of_type(module, "aws_s3_bucket") == [], module
        assert module_calls(module)["artifacts"]["source"] == "../modules/private-bucket"
    (bucket,) = of_type(BUCKET_MODULE, "aws_s3_bucket")
    assert "bucket_prefix" in bucket


@pytest.mark.parametrize("module", [*MODULES, BUCKET_MODULE])
def test_static_no_resource_is_public(module: str) -> None:
    for name, rule in security_group_ingress(module):
        text = str(rule)
        assert "0.0.0.0/0" not in text, f"ingress {name} is open"
        assert "::/0" not in text, f"ingress {name} is open"
    for body in of_type(module, "aws_db_instance"):
        assert body["publicly_accessible"] is False
        assert body["storage_encrypted"] is True
    for body in of_type(module, "aws_subnet"):
        assert body["map_public_ip_on_launch"] is False
    for body in of_type(module, "aws_ecs_service"):
        assert body["network_configuration"][0]["assign_public_ip"] is False
    buckets = of_type(module, "aws_s3_bucket")
    blocks = of_type(module, "aws_s3_bucket_public_access_block")
    assert len(blocks) == len(buckets)
    for block in blocks:
        for setting in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert block[setting] is True, setting
    policies = of_type(module, "aws_s3_bucket_policy")
    assert len(policies) == len(buckets)
    for policy in policies:
        assert '"aws:SecureTransport" = "false"' in policy["policy"]
        assert 'Effect = "Deny"' in policy["policy"]
    assert len(of_type(module, "aws_s3_bucket_versioning")) == len(buckets)
    for encryption in of_type(module, "aws_s3_bucket_server_side_encryption_configuration"):
        (rule,) = encryption["rule"]
        assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    # No policy anywhere lets everyone in.
    for kind, name, body in resources(module):
        for argument in ("policy", "assume_role_policy"):
            text = str(body.get(argument, ""))
            for statement in re.findall(r"\{[^{}]*Principal = \"\*\"[^{}]*", text):
                assert 'Effect = "Deny"' in statement, f"{kind}.{name} allows everyone"


def test_static_self_hosted_clients_reach_only_the_https_balancer_the_database_only_tasks() -> None:
    clients = variables("self-hosted")["client_cidr_blocks"]
    assert "default" not in clients
    assert "0.0.0.0/0" in clients["validation"][0]["condition"]
    (balancer,) = of_type("self-hosted", "aws_lb")
    assert variables("self-hosted")["load_balancer_internal"]["default"] is True
    assert balancer["internal"] == "${var.load_balancer_internal}"
    listeners = of_type("self-hosted", "aws_lb_listener")
    (https,) = [listener for listener in listeners if listener["protocol"] == "HTTPS"]
    assert https["certificate_arn"] == "${var.certificate_arn}"
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    (http,) = [listener for listener in listeners if listener["protocol"] == "HTTP"]
    (action,) = http["default_action"]
    assert action["type"] == "redirect"
    assert action["redirect"][0]["protocol"] == "HTTPS"
    groups = {
        name: body for kind, name, body in resources("self-hosted") if kind == "aws_security_group"
    }
    assert groups["load_balancer"]["ingress"][0]["cidr_blocks"] == "${var.client_cidr_blocks}"
    assert groups["database"]["ingress"][0]["security_groups"] == ["${aws_security_group.tasks.id}"]
    ((_, task_rule),) = [
        (name, rule) for name, rule in security_group_ingress("self-hosted") if name not in groups
    ]
    assert task_rule["referenced_security_group_id"] == "${aws_security_group.load_balancer.id}"
    (database,) = of_type("self-hosted", "aws_db_instance")
    assert variables("self-hosted")["deletion_protection"]["default"] is True
    assert database["deletion_protection"] == "${var.deletion_protection}"
    assert database["backup_retention_period"] == "${var.backup_retention_days}"
    assert variables("self-hosted")["backup_retention_days"]["default"] >= 7


def test_static_self_hosted_only_the_artifacts_task_has_a_role_and_it_reaches_only_its_prefix() -> (
    None
):
    (tasks,) = of_type("self-hosted", "aws_ecs_task_definition")
    assert tasks["task_role_arn"] == (
        '${each.key == "artifacts" ? aws_iam_role.artifacts.arn : null}'
    )
    policies = {
        name: body["policy"]
        for kind, name, body in resources("self-hosted")
        if kind == "aws_iam_role_policy"
    }
    artifacts = policies["artifacts"]
    object_resources = re.findall(r"Resource = \[([^\]]*)\]", artifacts)
    assert '"${module.artifacts.arn}/artifacts/*"' in object_resources
    assert '"${module.artifacts.arn}/*"' not in artifacts
    assert '"s3:prefix" = ["artifacts", "artifacts/*"]' in artifacts
    # Users get no bucket rights: no other role or policy names the bucket.
    for name, policy in policies.items():
        if name != "artifacts":
            assert "module.artifacts" not in policy, name


def compose_server_args(service: str) -> list[str]:
    """The ``mlflow server`` arguments of a compose service, as the shell would split them."""
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    (script,) = compose["services"][service]["command"]
    words = shlex.split(script.replace("$$", "$"))
    start = words.index("server", words.index("mlflow")) + 1
    return words[start:]


@pytest.mark.parametrize(
    ("service", "local"),
    [("mlflow", "tracking_server_args"), ("artifacts", "artifacts_server_args")],
)
def test_static_ecs_runs_the_same_mlflow_server_arguments_as_compose(
    service: str, local: str
) -> None:
    ecs_args = locals_of("self-hosted")[local]
    assert ecs_args == compose_server_args(service)
    # ...and gives the server every variable those arguments name.
    environment = locals_of("self-hosted")["environment"]
    for variable in re.findall(r"\$([A-Z_]+)", " ".join(ecs_args)):
        exported = f"{variable}=" in locals_of("self-hosted")["export_database_uris"]
        assert exported or f'name = "{variable}"' in str(environment), variable


def test_static_ecs_servers_get_every_setting_the_compose_servers_get() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    locals_ = locals_of("self-hosted")
    provided = str(locals_["environment"]) + str(locals_["common_environment"])
    provided += str(locals_["server_secrets"])
    provided += locals_["export_database_uris"]
    # On AWS the task role replaces the bucket keys and the S3 endpoint.
    replaced = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_S3_ENDPOINT_URL"}
    for service in ("mlflow", "artifacts"):
        for variable in set(compose["services"][service]["environment"]) - replaced:
            assert re.search(rf"\b{variable}\b", provided), (service, variable)


def test_static_migration_runs_once_before_the_services_and_the_servers_do_not_migrate() -> None:
    commands = locals_of("self-hosted")["commands"]
    assert "mlflow db upgrade" in commands["migrate"]
    assert "python -m deploy.auth_database" in commands["migrate"]
    assert "mlflow.server.auth db upgrade" in commands["migrate"]
    for server in ("tracking", "artifacts"):
        assert "db upgrade" not in commands[server]
    (service,) = of_type("self-hosted", "aws_ecs_service")
    assert "${terraform_data.migration}" in service["depends_on"]
    (migration,) = of_type("self-hosted", "terraform_data")
    (provisioner,) = migration["provisioner"]
    assert provisioner["local-exec"]["command"] == "${path.module}/scripts/run-migration.sh"
    dockerfile = (ROOT / "deploy" / "mlflow.Dockerfile").read_text()
    assert "auth_database.py" in dockerfile


def test_static_sagemaker_module_outputs_what_a_user_needs_and_scopes_its_role_to_its_bucket() -> (
    None
):
    (server,) = of_type("sagemaker-mlflow", "aws_sagemaker_mlflow_tracking_server")
    assert server["role_arn"] == "${aws_iam_role.tracking_server.arn}"
    assert server["artifact_store_uri"].startswith("s3://${module.artifacts.bucket}")
    found = outputs("sagemaker-mlflow")
    assert found["tracking_server_arn"]["value"] == (
        "${aws_sagemaker_mlflow_tracking_server.this.arn}"
    )
    assert "MLFLOW_TRACKING_URI=" in found["mlflow_tracking_uri"]["value"]
    assert found["plugin_install"]["value"].startswith("pip install sagemaker-mlflow==")
    (policy,) = of_type("sagemaker-mlflow", "aws_iam_role_policy")
    resources_named = re.findall(r"Resource = \[([^\]]*)\]", policy["policy"])
    for named in resources_named:
        assert "module.artifacts" in named or "aws_kms_key.artifacts" in named
