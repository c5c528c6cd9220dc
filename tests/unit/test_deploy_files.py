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
    assert set(services) == {"postgres", "minio", "create-bucket", "mlflow"}
    assert "mc mb" in command_text(services["create-bucket"])
    assert services["create-bucket"]["restart"] == "no"


def test_the_server_upgrades_the_database_once_then_serves_with_auth() -> None:
    text = command_text(compose()["services"]["mlflow"])
    upgrade = text.index("mlflow db upgrade")
    server = text.index("mlflow server")
    assert upgrade < server
    assert "python -m mlflow.server.auth db upgrade" in text[:server]
    for flag in (
        "--serve-artifacts",
        '--artifacts-destination "s3://',
        "--app-name basic-auth",
        "--allowed-hosts",
        "--backend-store-uri",
    ):
        assert flag in text[server:], flag
    assert "--default-artifact-root" not in text  # clients never write to the bucket


def test_health_checks_and_start_order() -> None:
    services = compose()["services"]
    for name in ("postgres", "minio", "mlflow"):
        check = services[name]["healthcheck"]
        assert check["test"], name
        assert check["retries"] > 0
    assert services["mlflow"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "create-bucket": {"condition": "service_completed_successfully"},
    }
    assert services["create-bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert "/health" in " ".join(services["mlflow"]["healthcheck"]["test"])
    assert services["mlflow"]["ports"] == ["127.0.0.1:5000:5000"]


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
