"""End-to-end, in a real browser: what a user sees of the collection in MLflow's UI.

The orchestrator runs twice on iris (cold, then warm from the step cache) into the
collection's default experiment, and the iris champion is monitored once; then a real
``mlflow server`` serves that store and Debian's Chromium, driven by Playwright, opens
the links the orchestrator printed and the model page, as a user would. Screenshots of
each view are written under the test's temporary folder (``UI_SCREENSHOTS`` names a
folder to keep them: docs/ui/ holds the ones the README shows).

Playwright rather than Chromium's own ``--dump-dom``: the UI renders in steps (React,
then the run table, then its rows), and the tree under a parent opens only on a click;
Playwright waits for each element and clicks, where ``--dump-dom`` could only guess a
time budget. Its own browser download needs the internet, so it drives the system
Chromium (``CHROMIUM``, default /usr/bin/chromium).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lifecycle import contract
from tests.helpers import REPO_ROOT, Server, Store, client_for, free_port

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The closed network refuses Chromium's background connections; a fresh profile each time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000
LINK = re.compile(r"in MLflow's UI \(mlflow ui, training view\): (\S+)")


def collection_env(store: Store, **extra: str) -> dict[str, str]:
    """The store's environment without an experiment: the collection picks its own."""
    env = store.env(**extra)
    env.pop("MLFLOW_EXPERIMENT_NAME")
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("UI_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_user_sees_the_runs_named_the_tree_the_summary_and_the_aliases(
    store: Store, datasets_mirror: Path, tmp_path: Path, screenshots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    # From a folder of the test's own, so the new experiment's artifacts live there.
    work = tmp_path / "work"
    work.mkdir()
    env = collection_env(store, PYTHONPATH=str(REPO_ROOT), DATASETS_MIRROR=str(datasets_mirror))
    orchestrate = ["python", "-m", "orchestrator", "--projects", "iris", "--env-manager", "local"]
    cold = run(orchestrate, env, work)
    warm = run(orchestrate, env, work)
    monitor_env = collection_env(store, PYTHONPATH=str(REPO_ROOT / "iris"))
    iris_table = str(REPO_ROOT / "datasets" / "iris.csv")
    monitored = run(
        ["python", "-m", "iris_workflow", "monitor", "--input", iris_table], monitor_env, work
    )

    client = client_for(store)
    experiment = client.get_experiment_by_name(contract.EXPERIMENT)
    assert experiment is not None, "the collection's experiment was not created"
    assert experiment.tags[contract.EXPERIMENT_KIND_TAG] == contract.EXPERIMENT_KIND
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    names = sorted(run.info.run_name for run in runs)
    assert names == sorted(
        ["orchestrator"] * 2
        + ["iris · train", "iris · evaluate", "iris · register"]
        + ["iris · train · reused", "iris · evaluate · reused", "iris · register · reused"]
        + ["iris · monitor"]
    )
    cold_link, warm_link = LINK.search(cold), LINK.search(warm)
    assert cold_link, cold[-2000:]
    assert warm_link, warm[-2000:]
    monitor_run_id = re.search(r"run_id=(\w+)", monitored)
    assert monitor_run_id

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Server(
        [
            *("mlflow", "server", "--backend-store-uri", store.uri),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        ],
        # Without MLflow's job queue (eight huey consumers), which the UI does not need.
        env=store.env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
        cwd=work,
        log=tmp_path / "server.log",
    )
    try:
        server.wait_http(f"{base}/health", timeout=120, what="mlflow server")

        def local(link: str) -> str:
            # The orchestrator printed mlflow ui's default address; this server's port.
            return link.replace("http://127.0.0.1:5000", base)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(WAIT_MS)

                # The warm parent's page: its description is the summary table.
                page.goto(local(warm_link.group(1)))
                description = page.locator("table").filter(has_text="hit/hit/hit")
                expect(description).to_be_visible()
                expect(page.get_by_text("Orchestrator: iris")).to_be_visible()
                expect(
                    page.get_by_text("step cache: 3 hit, 0 miss, 0 forced, 0 off")
                ).to_be_visible()
                close_assistant(page)
                page.screenshot(path=screenshots / "parent-description.png")

                # The experiment opens in its training view, the runs named for what they are.
                page.goto(
                    f"{base}/#/experiments/{experiment.experiment_id}?workflowType=machine_learning"
                )
                expect(page.get_by_role("link", name="iris · monitor")).to_be_visible()
                expect(page.get_by_role("link", name="orchestrator")).to_have_count(2)
                expect(page.get_by_text("Overview", exact=True)).to_have_count(0)
                expect(page.get_by_text("iris-monitor-input")).to_be_visible()
                close_assistant(page)
                # The newest parent is the warm one: its tree holds the three reused links.
                newest = page.locator("[role=gridcell]").filter(
                    has=page.get_by_role("link", name="orchestrator")
                )
                newest.first.locator("button").first.click()
                for step in ("train", "evaluate", "register"):
                    expect(page.get_by_role("link", name=f"iris · {step} · reused")).to_be_visible()
                page.screenshot(path=screenshots / "runs.png")

                # The model page: both aliases, and the version's description.
                page.goto(f"{base}/#/models/iris?workflowType=machine_learning")
                expect(page.get_by_text("@ champion")).to_be_visible()
                expect(page.get_by_text("@ challenger")).to_be_visible()
                close_assistant(page)
                page.screenshot(path=screenshots / "model.png")
                page.goto(f"{base}/#/models/iris/versions/1?workflowType=machine_learning")
                for label in ("Gate:", "Promotion:", "Measured on:"):
                    expect(page.get_by_text(label, exact=True)).to_be_visible()
                page.screenshot(path=screenshots / "version.png")

                # The monitor run's metric charts: one per drift test, with its p-value.
                page.goto(
                    f"{base}/#/experiments/{experiment.experiment_id}/runs/"
                    f"{monitor_run_id.group(1)}/model-metrics?workflowType=machine_learning"
                )
                expect(page.get_by_text("drift/petal_length")).to_be_visible()
                expect(page.locator("canvas, svg.main-svg").first).to_be_visible()
                page.screenshot(path=screenshots / "monitor-metrics.png")
            finally:
                browser.close()
    finally:
        server.stop()


def close_assistant(page: object) -> None:
    """Close MLflow's assistant panel, when it is open, so the screenshot shows the page."""
    close = page.get_by_role("button", name="Close")  # type: ignore[attr-defined]
    if close.count():
        close.first.click()
