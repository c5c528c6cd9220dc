"""CLI tests: the score step fails closed and never destroys or mixes data (iris, pandas
engine, each case a real ``python -m iris_workflow score`` process on a temporary sqlite
store holding an iris champion).

Every failure ends with exit code 1 (2 for a parameter refused before any work), one
line that names the problem, no traceback and no rows in the message, a FAILED run with
``lifecycle.failure_reason`` (nothing RUNNING), and nothing in the output that looks
complete. Outputs that name the input by another spelling are refused with the input
intact byte for byte; two jobs to one output: exactly one writes it; a signal mid-job
stops the job, removes what it wrote and records why.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.io import claims, locations, manifests, tables
from tests.helpers import REPO_ROOT, Store, all_runs, client_for, open_store, signal_when_ready

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def champion_store(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[Store]:
    """A store where iris version 1 is champion, and gold_prices is a registered name."""
    import mlflow

    from iris_workflow import steps
    from lifecycle import contract

    with pytest.MonkeyPatch.context() as patch:
        store = open_store(tmp_path_factory.mktemp("score-store"), template_db, patch)
        trained = steps.train()
        assert str(steps.register(trained.model_uri).version) == "1"
        # Another project's registered model (its label says so), to be refused by iris.
        client = client_for(store)
        client.create_registered_model("gold_prices", tags={contract.PROJECT: "gold_prices"})
        version = client.create_model_version("gold_prices", trained.model_uri, trained.run_id)
        client.set_registered_model_alias("gold_prices", "champion", version.version)
        while mlflow.active_run():
            mlflow.end_run()
        yield store
        mlflow.set_tracking_uri(None)


def score(store: Store, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "iris_workflow", "score", *args],
        cwd=REPO_ROOT / "iris",
        env=store.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_score(store: Store, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "iris_workflow", "score", *args],
        cwd=REPO_ROOT / "iris",
        env=store.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def iris_frame(rows: int = 150) -> pd.DataFrame:
    frame = pd.read_csv(REPO_ROOT / "datasets" / "iris.csv")[FEATURES]
    return frame.sample(rows, replace=rows > len(frame), random_state=1).reset_index(drop=True)


def newest_run(store: Store):
    return max(all_runs(store), key=lambda run: run.info.start_time)


def assert_fails_closed(
    store: Store, result: subprocess.CompletedProcess, fragment: str, runs_before: int
) -> None:
    """Exit 1, one ``Error:`` line naming the problem, no traceback; one new run, FAILED,
    whose ``failure_reason`` is that line; nothing left RUNNING."""
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert fragment in errors[0]
    assert "Traceback" not in result.stderr
    runs = all_runs(store)
    assert len(runs) == runs_before + 1
    run = newest_run(store)
    assert run.info.status == "FAILED"
    assert run.data.tags["lifecycle.failure_reason"] == errors[0].removeprefix("Error: ")
    assert [r.info.run_id for r in runs if r.info.status == "RUNNING"] == []


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_each_unreadable_input_fails_with_its_reason(champion_store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ragged.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.2,2.9,4.3,1.3,9\n"
    )
    iris_frame().to_parquet(tmp_path / "whole.parquet")
    (tmp_path / "corrupt.parquet").write_bytes((tmp_path / "whole.parquet").read_bytes()[:300])
    (tmp_path / "a-file").write_text("in the way")
    cases = {
        "empty.csv": "input file 'empty.csv' cannot be read as CSV: it is empty",
        "ragged.csv": "'ragged.csv' cannot be read as CSV: data row 1 has 5 fields where the "
        "header has 4",
        "corrupt.parquet": "'corrupt.parquet' cannot be read as Parquet: it is not a Parquet file",
    }
    for name, fragment in cases.items():
        before = len(all_runs(champion_store))
        result = score(
            champion_store, "--input", str(tmp_path / name), "--output", str(tmp_path / f"o-{name}")
        )
        assert_fails_closed(champion_store, result, fragment, before)
        assert "6.2" not in result.stderr  # no data in the message
        assert not (tmp_path / f"o-{name}").exists()
    before = len(all_runs(champion_store))
    unwritable = tmp_path / "a-file" / "out"
    result = score(
        champion_store, "--input", str(tmp_path / "whole.parquet"), "--output", str(unwritable)
    )
    assert_fails_closed(champion_store, result, "cannot be written", before)
    assert (tmp_path / "a-file").read_text() == "in the way"


def test_a_model_of_another_project_is_refused_before_any_row_is_read(
    champion_store: Store, tmp_path: Path
) -> None:
    iris_frame().to_parquet(tmp_path / "in.parquet")
    before = len(all_runs(champion_store))
    result = score(
        champion_store,
        *("--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out")),
        *("--model-uri", "models:/gold_prices@champion"),
    )
    assert_fails_closed(champion_store, result, "is a gold_prices model (", before)
    assert "MLflow tracking" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreachable_spark_master_is_named_at_once(
    champion_store: Store, tmp_path: Path
) -> None:
    from deploy.processes import free_port

    iris_frame().to_parquet(tmp_path / "in.parquet")
    before = len(all_runs(champion_store))
    master = f"spark://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = score(
        champion_store,
        *("--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out")),
        *("--engine", "spark", "--spark-master", master),
    )
    assert_fails_closed(champion_store, result, f"Spark master {master} is not reachable", before)
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out").exists()


def test_every_row_bad_under_quarantine_goes_to_the_rejected_output(
    champion_store: Store, tmp_path: Path
) -> None:
    frame = iris_frame(20)
    frame["petal_width"] = -1.0
    frame.to_parquet(tmp_path / "in.parquet")
    result = score(
        champion_store,
        *("--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out")),
        *("--on-bad-rows", "quarantine"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rows_in=20 rows_scored=0 rows_rejected=20 rows_out=0" in result.stdout
    rejected = manifests.read_output(str(tmp_path / "out-rejected")).to_pandas()
    assert len(rejected) == 20
    assert rejected["reason"].str.contains("petal_width is -1, outside").all()
    assert manifests.read_output(str(tmp_path / "out")).num_rows == 0
    manifest = manifests.verify(locations.locate(str(tmp_path / "out")))
    assert manifest.rows == {"in": 20, "rejected": 20, "scored": 0, "out": 0}
    assert manifest.rejected_output == str(tmp_path / "out-rejected")


@pytest.mark.parametrize(
    ("spelling", "relation"),
    [
        ("{input}/", "is the input"),
        ("file://{input}", "is the input"),
        ("{input}/../data/./", "is the input"),
        ("{link}", "is the input"),
        ("{input}/scored", "lies inside the input"),
        ("{parent}", "contains the input"),
        ("{input}/part-0.parquet", "lies inside the input"),
    ],
)
def test_an_output_naming_the_input_is_refused_and_the_input_stays_intact(
    champion_store: Store, tmp_path: Path, spelling: str, relation: str
) -> None:
    parent = tmp_path / "user"
    data = parent / "data"
    data.mkdir(parents=True)
    iris_frame().to_parquet(data / "part-0.parquet")
    (parent / "notes.txt").write_text("unrelated, beside the input")
    (tmp_path / "link").symlink_to(data)
    before = digest_tree(parent)
    output = spelling.format(input=data, link=tmp_path / "link", parent=parent)
    arguments = ["--input", str(data), "--output", output, "--mode", "overwrite"]
    if spelling == "{input}/":  # one as a real process; the rest in this one (quicker)
        result = score(champion_store, *arguments)
        code, stderr = result.returncode, result.stderr
    else:
        from click.testing import CliRunner

        from iris_workflow.cli import cli

        answer = CliRunner().invoke(cli, ["score", *arguments])
        code, stderr = answer.exit_code, answer.output
    assert code == 2, stderr[-2000:]
    assert relation in stderr
    assert "Traceback" not in stderr
    assert digest_tree(parent) == before


def test_a_symlink_loop_and_a_second_link_to_a_file_are_read_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    iris_frame(10).to_parquet(data / "sub" / "part-0.parquet")
    (data / "sub" / "loop").symlink_to(data)  # a folder that contains itself
    (data / "again.parquet").symlink_to(data / "sub" / "part-0.parquet")
    files = tables.list_input(str(data))
    assert len(files.files) == 1
    assert tables.read_all(files).num_rows == 10


def test_of_two_jobs_to_one_output_exactly_one_writes_it(
    champion_store: Store, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.parquet", tmp_path / "second.parquet"
    iris_frame(150).to_parquet(first)
    iris_frame(300).to_parquet(second)
    output = tmp_path / "out"
    jobs = [
        start_score(champion_store, "--input", str(source), "--output", str(output))
        for source in (first, second)
    ]
    results = [(job.wait(timeout=180), *job.communicate()) for job in jobs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(stderr for code, _, stderr in results if code == 1)
    assert re.search(r"claimed by another score job|already exists|being written", loser)
    assert "Traceback" not in loser
    manifest = manifests.verify(locations.locate(str(output)))
    winner = next(out for code, out, _ in results if code == 0)
    assert f"run_id={manifest.run_id}" in winner
    table = manifests.read_output(str(output))
    assert table.num_rows == manifest.rows["out"] in (150, 300)
    assert manifest.input == str(first if table.num_rows == 150 else second)


@pytest.mark.parametrize(
    ("engine", "signal_name"), [("pandas", "SIGTERM"), ("pandas", "SIGINT"), ("spark", "SIGTERM")]
)
def test_a_signal_mid_job_stops_it_removes_its_output_and_records_why(
    champion_store: Store, tmp_path: Path, engine: str, signal_name: str
) -> None:
    """The pandas job is stopped once it has claimed its output; the Spark job once its
    write is under way (its working folder exists), so Spark's jobs are cancelled."""
    iris_frame(600_000).to_parquet(tmp_path / "in.parquet")
    output = tmp_path / "out"
    job = start_score(
        champion_store,
        *("--input", str(tmp_path / "in.parquet"), "--output", str(output)),
        *("--engine", engine, "--spark-master", "local[2]"),
    )

    def under_way() -> bool:
        if engine == "pandas":
            return (output / claims.CLAIM).exists()
        return any(output.glob(f"{claims.STAGING_PREFIX}*")) if output.exists() else False

    code, stderr = signal_when_ready(job, signal_name, under_way)
    assert code == 130, stderr[-2000:]
    assert f"the step was stopped: stopped by {signal_name}" in stderr
    assert "Traceback" not in stderr
    assert not output.exists()
    run = newest_run(champion_store)
    assert run.info.status == "FAILED"
    assert (
        run.data.tags["lifecycle.failure_reason"]
        == f"the step was stopped: stopped by {signal_name}"
    )
    assert [r for r in all_runs(champion_store) if r.info.status == "RUNNING"] == []


def test_an_abandoned_output_is_replaced_only_under_overwrite(
    champion_store: Store, tmp_path: Path
) -> None:
    """A job killed outright (SIGKILL) leaves its claim and parts: not complete, so no
    reader takes it; mode=error refuses it; mode=overwrite replaces it, its writer gone."""
    iris_frame().to_parquet(tmp_path / "in.parquet")
    output = tmp_path / "out"
    location = locations.locate(str(output))
    dead = claims.ClaimRecord("deadbeef00000000", "0" * 32, os.uname().nodename, 2**22 + 7, "1")
    output.mkdir()
    (output / claims.CLAIM).write_bytes(dead.to_json())
    (output / "part-00000-deadbeef00000000.parquet").write_bytes(b"half written")
    with pytest.raises(Exception, match="has no manifest"):
        manifests.read_output(location.uri)
    refused = score(
        champion_store, "--input", str(tmp_path / "in.parquet"), "--output", str(output)
    )
    assert refused.returncode == 1
    assert "already exists, incomplete," in refused.stderr
    replaced = score(
        champion_store,
        *("--input", str(tmp_path / "in.parquet"), "--output", str(output)),
        *("--mode", "overwrite"),
    )
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert not (output / "part-00000-deadbeef00000000.parquet").exists()
    assert manifests.read_output(location.uri).num_rows == 150
