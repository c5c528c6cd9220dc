"""deploy/aws/self-hosted/scripts/run-migration.sh against a stand-in ``aws`` command.

What this proves: the script starts exactly one Fargate task with the network it is
given, waits for it to stop, and fails (so ``terraform apply`` stops before the servers
start) unless the task's container exited 0. What it cannot prove: that the real AWS
CLI and ECS answer as the stand-in does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy/aws/self-hosted/scripts/run-migration.sh"

# Answers like the AWS CLI with --query/--output text; every call is logged as JSON.
FAKE_AWS = """#!{python}
import json, os, sys
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
command = sys.argv[1:3]
query = sys.argv[sys.argv.index("--query") + 1] if "--query" in sys.argv else ""
if command == ["ecs", "run-task"]:
    print(os.environ["FAKE_TASK_ARN"])
elif command == ["ecs", "wait"]:
    sys.exit(int(os.environ.get("FAKE_WAIT_STATUS", "0")))
elif command == ["ecs", "describe-tasks"]:
    print(os.environ["FAKE_EXIT_CODE"] if "exitCode" in query else "Essential container exited")
else:
    sys.exit("unexpected call")
"""

ENVIRONMENT = {
    "REGION": "eu-west-1",
    "CLUSTER": "mlflow-team",
    "TASK_DEFINITION": "arn:aws:ecs:eu-west-1:123456789012:task-definition/mlflow-team-migrate:3",
    "SUBNETS": "subnet-a,subnet-b",
    "SECURITY_GROUP": "sg-tasks",
    "LOG_GROUP": "/ecs/mlflow-team",
}


def run_script(tmp_path: Path, **fake: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    aws = bin_dir / "aws"
    aws.write_text(FAKE_AWS.format(python=sys.executable))
    aws.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "FAKE_AWS_LOG": str(log),
        **ENVIRONMENT,
        **fake,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, calls


def test_stand_in_aws_cli_a_migration_that_exits_zero_lets_the_apply_go_on(tmp_path: Path) -> None:
    task = "arn:aws:ecs:eu-west-1:123456789012:task/mlflow-team/abc"
    done, calls = run_script(tmp_path, FAKE_TASK_ARN=task, FAKE_EXIT_CODE="0")
    assert done.returncode == 0, done.stderr
    assert f"migration finished: {task}" in done.stdout
    run_task, wait, describe = calls
    assert run_task[:2] == ["ecs", "run-task"]
    assert run_task[run_task.index("--task-definition") + 1] == ENVIRONMENT["TASK_DEFINITION"]
    assert run_task[run_task.index("--count") + 1] == "1"
    network = run_task[run_task.index("--network-configuration") + 1]
    assert network == (
        "awsvpcConfiguration={subnets=[subnet-a,subnet-b],"
        "securityGroups=[sg-tasks],assignPublicIp=DISABLED}"
    )
    assert wait[:3] == ["ecs", "wait", "tasks-stopped"]
    assert task in wait
    assert describe[:2] == ["ecs", "describe-tasks"]


@pytest.mark.parametrize("exit_code", ["1", "None"])
def test_stand_in_aws_cli_a_failed_or_unfinished_migration_stops_the_apply(
    tmp_path: Path, exit_code: str
) -> None:
    task = "arn:aws:ecs:eu-west-1:123456789012:task/mlflow-team/abc"
    done, _ = run_script(tmp_path, FAKE_TASK_ARN=task, FAKE_EXIT_CODE=exit_code)
    assert done.returncode == 1
    assert f"ended with exit code {exit_code}" in done.stderr
    assert "/ecs/mlflow-team" in done.stderr  # where to read why


def test_stand_in_aws_cli_a_task_that_never_started_or_never_stopped_stops_the_apply(
    tmp_path: Path,
) -> None:
    done, calls = run_script(tmp_path, FAKE_TASK_ARN="None", FAKE_EXIT_CODE="0")
    assert done.returncode == 1
    assert "did not start" in done.stderr
    assert len(calls) == 1
    waited, _ = run_script(
        tmp_path / "again", FAKE_TASK_ARN="arn:task", FAKE_EXIT_CODE="0", FAKE_WAIT_STATUS="255"
    )
    assert waited.returncode != 0
    assert "migration finished" not in waited.stdout
