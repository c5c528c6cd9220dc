"""End-to-end: ``mlflow run git://…#<project> --version <commit>`` against a bare clone of
this repository served by ``git daemon`` on 127.0.0.1: iris with its committed data, and
gold_prices and cities with their pinned data read through the mirror."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Server, Store, client_for, free_port, run_cli

pytestmark = pytest.mark.e2e


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


def wait_for_git(url: str, server: Server, tries: int = 40) -> None:
    for _ in range(tries):
        if server.process.poll() is not None:
            raise AssertionError(f"git daemon exited:\n{server.output()}")
        probe = subprocess.run(["git", "ls-remote", url], capture_output=True, timeout=10)
        if probe.returncode == 0:
            return
        subprocess.run(["sleep", "0.25"], check=True)
    raise AssertionError(f"git daemon at {url} did not answer:\n{server.output()}")


def test_mlflow_run_from_a_git_uri_at_a_pinned_commit(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    commit = git("rev-parse", "HEAD")
    served = tmp_path / "served"
    served.mkdir()
    git("clone", "--quiet", "--bare", str(REPO_ROOT), str(served / "project.git"))
    port = free_port()
    daemon = Server(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={served}",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--informative-errors",
            str(served),
        ],
        env=store.env(),
        cwd=tmp_path,
        log=tmp_path / "git-daemon.log",
    )
    url = f"git://127.0.0.1:{port}/project.git"
    try:
        wait_for_git(url, daemon)
        result = run_cli(
            [
                "mlflow",
                "run",
                f"{url}#iris",
                "--version",
                commit,
                "-P",
                "max_depth=3",
                "--env-manager",
                "local",
            ],
            store,
            tmp_path,
        )
        # The fetched datasets resolve inside the checkout MLflow makes, via the mirror.
        fetched = {
            project: run_cli(
                [
                    "mlflow",
                    "run",
                    f"{url}#{project}",
                    "--version",
                    commit,
                    "-e",
                    "train",
                    *extra,
                    "--env-manager",
                    "local",
                ],
                store,
                tmp_path,
                DATASETS_MIRROR=str(datasets_mirror),
            )
            for project, extra in [
                ("gold_prices", ["-P", "refit_every=252"]),
                ("cities", ["-P", "n_components=3"]),
            ]
        }
    finally:
        daemon.stop()
    for project, outcome in fetched.items():
        assert outcome.returncode == 0, (project, outcome.stderr[-3000:])
        fetched_run = client_for(store).get_run(
            re.search(r"run_id=([0-9a-f]{32})", outcome.stdout).group(1)
        )
        assert fetched_run.data.tags["mlflow.source.git.commit"] == commit
        assert fetched_run.data.tags["data_pinned"] == "true"
    assert result.returncode == 0, result.stderr[-4000:]
    run_id = re.search(r"run_id=([0-9a-f]{32})", result.stdout).group(1)
    run = client_for(store).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["max_depth"] == "3"
    assert run.data.tags["mlflow.source.git.commit"] == commit
    assert run.data.tags["mlflow.source.name"] == f"{url}#iris"
