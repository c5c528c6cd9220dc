"""The Docker Compose stack cannot run here (no Docker engine), so its file is checked:
the server's flags, the health checks and start order, and that no secret is inlined."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_the_stack_has_database_object_store_bucket_job_and_server() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "minio", "create-bucket", "mlflow", "artifacts"}
    assert "mc mb" in command_text(services["create-bucket"])
    assert services["create-bucket"]["restart"] == "no"


def test_the_server_upgrades_the_database_once_then_serves_with_auth() -> None:
    text = command_text(compose()["services"]["mlflow"])
    upgrade = text.index("mlflow db upgrade")
    server = text.index("mlflow server")
    assert upgrade < server
    assert "python -m mlflow.server.auth db upgrade" in text[:server]
    assert "python -m deploy.auth_config /mlflow/basic_auth.ini" in text[:server]
    for flag in ("--no-serve-artifacts", "--app-name basic-auth", "--allowed-hosts"):
        assert flag in text[server:], flag
    assert "--backend-store-uri" in text[server:]
    assert "--serve-artifacts " not in text
    assert "--artifacts-destination" not in text


def test_only_the_artifacts_server_holds_the_bucket_keys() -> None:
    services = compose()["services"]
    tracking = services["mlflow"]["environment"]
    assert not [key for key in tracking if key.startswith("AWS_") or "S3" in key]
    assert tracking["MLFLOW_DEFAULT_ARTIFACT_ROOT"].startswith("mlflow-artifacts://")
    artifacts = services["artifacts"]
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(artifacts["environment"])
    text = command_text(artifacts)
    for flag in (
        "--artifacts-only",
        "--serve-artifacts",
        '--artifacts-destination "s3://',
        "--app-name basic-auth",
        "--allowed-hosts",
    ):
        assert flag in text, flag
    assert "python -m deploy.auth_config /mlflow/basic_auth.ini" in text
    assert "--backend-store-uri" not in text
    assert "db upgrade" not in text  # the tracking server migrates, once
    dockerfile = (DEPLOY / "mlflow.Dockerfile").read_text()
    copied = "COPY __init__.py auth_config.py auth_database.py server_guard.py /opt/team/deploy/"
    assert copied in dockerfile
    assert "ENV PYTHONPATH=/opt/team" in dockerfile


def test_both_servers_log_users_in_through_the_guard() -> None:
    from deploy import auth_config

    text = auth_config.render("sqlite:///auth.db")
    assert "authorization_function = deploy.server_guard:authenticate_request" in text
    assert "default_permission = READ" in text
    module, function = auth_config.GUARD.split(":")
    assert function in (ROOT / (module.replace(".", "/") + ".py")).read_text()


def test_health_checks_and_start_order() -> None:
    services = compose()["services"]
    for name in ("postgres", "minio", "mlflow", "artifacts"):
        check = services[name]["healthcheck"]
        assert check["test"], name
        assert check["retries"] > 0
    assert services["mlflow"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["artifacts"]["depends_on"] == {
        "mlflow": {"condition": "service_healthy"},
        "create-bucket": {"condition": "service_completed_successfully"},
    }
    assert services["create-bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert "/health" in " ".join(services["mlflow"]["healthcheck"]["test"])
    assert services["mlflow"]["ports"] == ["127.0.0.1:5000:5000"]
    assert services["artifacts"]["ports"] == ["127.0.0.1:5500:5500"]
    assert "5500/health" in " ".join(services["artifacts"]["healthcheck"]["test"])


SECRET_KEYS = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|ROOT_USER")


def test_no_secret_is_inlined() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_KEYS.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), (name, key, value)
            for secret in re.findall(r"postgresql\+psycopg2://[^@]*@", str(value)):
                assert "${POSTGRES_PASSWORD:?" in secret, (name, key)
    text = (DEPLOY / "docker-compose.yml").read_text()
    assert "password1234" not in text
    assert "change-me" not in text


def test_env_example_lists_every_variable_and_real_env_is_ignored() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert used == set(example)
    assert all(
        value.startswith("change-me") for key, value in example.items() if SECRET_KEYS.search(key)
    )
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/.env" in ignored
    assert not (DEPLOY / ".env").exists() or "deploy/.env" in ignored
