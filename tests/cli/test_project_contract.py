"""The project contract (docs/project-contract.md), checked on every project folder that
discovery finds (a direct subfolder with an MLproject), so a new folder is checked
without editing this file: its entry points, what each step prints, the tags it
writes, its exit codes, and how its served model declares its input."""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click
import pytest
import yaml
from click.testing import CliRunner

from lifecycle import contract
from lifecycle.register import evidence
from lifecycle.sync import project_folders
from tests.helpers import Store, all_runs, client_for

FOLDERS = project_folders()
RUN_ID = r"[0-9a-f]{32}"


@dataclass(frozen=True)
class Project:
    folder: Path
    package: str
    cli: ModuleType

    @property
    def name(self) -> str:
        return self.folder.name

    def invoke(self, *args: str) -> click.testing.Result:
        return CliRunner().invoke(self.cli.cli, list(args), catch_exceptions=False)

    def main(self, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
        """Run the console entry (``python -m <package>``) and return its exit code."""
        monkeypatch.setattr(sys, "argv", [self.package, *args])
        with pytest.raises(SystemExit) as exited:
            self.cli.main()
        return exited.value.code


def entry_points(folder: Path) -> dict:
    return yaml.safe_load((folder / "MLproject").read_text())["entry_points"]


def package_of(folder: Path) -> str:
    """The package the entry points run: ``python -m <package> <step>``."""
    tokens = shlex.split(entry_points(folder)["train"]["command"])
    assert tokens[:2] == ["python", "-m"], tokens
    return tokens[2]


@pytest.fixture(params=FOLDERS, ids=[folder.name for folder in FOLDERS])
def project(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, datasets_mirror: Path
) -> Project:
    folder = request.param
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("DATASETS_MIRROR", str(datasets_mirror))
    package = package_of(folder)
    return Project(folder, package, importlib.import_module(f"{package}.cli"))


def module_imports(path: Path) -> set[str]:
    """Absolute module names ``path`` imports when it is loaded: its module-level
    imports, not those inside functions or under ``if TYPE_CHECKING``."""
    import ast

    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module != "__future__"
        ):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def served_imports(model_dir: Path) -> dict[str, set[str]]:
    """The packages the served model's own code imports when it loads, each with the
    distributions that provide it: the import closure of its entry module within the
    model's ``code/`` folder; what lies outside it is what must be pinned."""
    import importlib.metadata

    code = model_dir / "code"
    flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["python_function"]
    if flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model":  # "models from code"
        start = model_dir / Path(flavor["model_code_path"]).name
    else:
        start = code / (flavor["loader_module"].replace(".", "/") + ".py")
    assert start.is_file(), f"the served model's entry module {start} is not in the model"
    seen: set[Path] = set()
    outside: set[str] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for name in module_imports(path):
            parts = name.split(".")
            local = [code.joinpath(*parts[:i]) for i in range(len(parts), 0, -1)]
            found = [p.with_suffix(".py") for p in local if p.with_suffix(".py").is_file()]
            found += [p / "__init__.py" for p in local if (p / "__init__.py").is_file()]
            if (code / parts[0]).exists():
                todo.extend(found)
            elif parts[0] not in sys.stdlib_module_names:
                outside.add(parts[0])
    providers = importlib.metadata.packages_distributions()
    return {module: {d.lower() for d in providers.get(module, [])} for module in outside}


def assert_named(tags: dict[str, str], project: str, step: str) -> None:
    """The run-name convention every step run follows, in MLflow's run list."""
    assert tags["mlflow.runName"] == f"{project} · {step}"


def test_discovery_finds_every_project() -> None:
    assert {"iris", "gold_prices", "cities"} <= {folder.name for folder in FOLDERS}


def test_the_entry_points_are_the_contracts(project: Project) -> None:
    points = entry_points(project.folder)
    assert {"main", "train", "evaluate", "register", "score", "monitor"} <= set(points)
    assert points["main"] == points["train"]
    assert set(points["evaluate"]["parameters"]) == {"model_uri"}
    register = points["register"]["parameters"]
    assert {"model_uri", "model_name"} <= set(register)
    assert register["model_name"]["default"] == project.name
    score = points["score"]["parameters"]
    assert set(score) == {
        "input",
        "output",
        "model_uri",
        "engine",
        "spark_master",
        "on_bad_rows",
        "mode",
    }
    assert score["model_uri"]["default"] == f"models:/{project.name}@champion"
    monitor = points["monitor"]["parameters"]
    assert set(monitor) == {
        "input",
        "model_uri",
        "truth",
        "fail_on",
        "monitor_alpha",
        "drift_share",
        "batch_date",
    }
    assert monitor["model_uri"]["default"] == f"models:/{project.name}@champion"
    assert monitor["fail_on"]["default"] == "none"
    for name, point in points.items():
        tokens = shlex.split(point["command"])
        assert tokens[:4] == ["python", "-m", project.package, name if name != "main" else "train"]
        for parameter in point["parameters"].values():
            assert parameter["type"] in {"int", "float", "string"}
    assert (project.folder / "lifecycle" / "contract.py").is_file()


def test_a_project_runs_its_lifecycle_as_the_contract_says(project: Project, store: Store) -> None:
    import mlflow

    client = client_for(store)
    name = project.name

    trained = project.invoke("train")
    assert trained.exit_code == 0, trained.output
    line = re.search(rf"^{name} train: run_id=({RUN_ID}) model_uri=(\S+)", trained.stdout, re.M)
    assert line, trained.output
    train_id, model_uri = line.groups()
    assert model_uri == f"runs:/{train_id}/model"
    train_run = client.get_run(train_id)
    tags = train_run.data.tags
    assert tags[contract.PROJECT] == name
    assert tags[contract.STEP] == "train"
    assert_named(tags, name, "train")
    experiment = client.get_experiment(train_run.info.experiment_id)
    assert experiment.tags[contract.EXPERIMENT_KIND_TAG] == contract.EXPERIMENT_KIND
    key_metrics = tags[contract.KEY_METRICS].split(",")
    assert key_metrics
    assert set(key_metrics) <= set(train_run.data.metrics)

    # The served model declares its input: a signature and an input example it scores.
    info = mlflow.models.get_model_info(model_uri)
    assert info.signature is not None
    assert info.signature.inputs is not None
    assert info.saved_input_example_info is not None
    example = mlflow.models.Model.load(model_uri).load_input_example(
        mlflow.artifacts.download_artifacts(model_uri)
    )
    predictions = mlflow.pyfunc.load_model(model_uri).predict(example)
    assert len(predictions) > 0
    # It carries the code it imports and pins every package that code imports.
    model_dir = Path(mlflow.artifacts.download_artifacts(model_uri))
    requirements = (model_dir / "requirements.txt").read_text().splitlines()
    pinned = {line.split("==")[0].lower() for line in requirements if "==" in line}
    assert all("==" in line for line in requirements if line and not line.startswith("#"))
    unpinned = {
        module: providers
        for module, providers in served_imports(model_dir).items()
        if not providers & pinned
    }
    assert "mlflow" in pinned
    assert not unpinned, f"{name}: the served model imports packages it does not pin: {unpinned}"

    evaluated = project.invoke("evaluate", "--model-uri", model_uri)
    assert evaluated.exit_code == 0, evaluated.output
    line = re.search(
        rf"^{name} evaluate: run_id=({RUN_ID}) training_run_id={train_id}\b",
        evaluated.stdout,
        re.M,
    )
    assert line, evaluated.output
    evaluate_run = client.get_run(line.group(1))
    evaluate_tags = evaluate_run.data.tags
    # The data it was measured on is the run's dataset input, named for the project.
    (measured,) = evaluate_run.inputs.dataset_inputs
    assert measured.dataset.name.startswith(f"{name}-")
    assert evaluate_tags[contract.PROJECT] == name
    assert evaluate_tags[contract.STEP] == "evaluate"
    assert_named(evaluate_tags, name, "evaluate")
    assert evaluate_tags[contract.TRAINING_RUN_ID] == train_id
    assert evaluate_tags[contract.MODEL_URI] == model_uri
    # Per-row evidence: the rows a gate value averages, to pair two models without refit.
    rows_uri = f"runs:/{line.group(1)}/{evidence.ARTIFACT}"
    rows = evidence.from_csv(mlflow.artifacts.load_text(rows_uri))
    assert set(evidence.COLUMNS) <= set(rows.columns)

    registered = project.invoke("register", "--model-uri", model_uri)
    assert registered.exit_code == 0, registered.output
    line = re.search(
        rf"^{name} register: run_id=({RUN_ID}) version=(\d+|none)"
        rf"(?: decision=(?:first|promoted|kept) p_value=\S+)? gate (PASSED|FAILED)",
        registered.stdout,
        re.M,
    )
    assert line, registered.output
    register_id, version, decision = line.groups()
    register_tags = client.get_run(register_id).data.tags
    assert register_tags[contract.PROJECT] == name
    assert register_tags[contract.STEP] == "register"
    assert_named(register_tags, name, "register")
    assert register_tags[contract.TRAINING_RUN_ID] == train_id
    assert register_tags[contract.gate("decision")] == decision.lower()
    for field in ("metric", "value", "threshold", "summary"):
        assert register_tags[contract.gate(field)], field
    assert contract.CHAMPION_VERSION in register_tags
    assert register_tags[contract.REGISTERED_MODEL] == name
    if version == "none":
        assert contract.REGISTERED_VERSION not in register_tags
        return
    assert register_tags[contract.REGISTERED_VERSION] == version
    model_version = client.get_model_version(name, version)
    assert model_version.tags[contract.PROJECT] == name
    assert model_version.tags[contract.gate("decision")] == "passed"
    assert model_version.tags[contract.CONTEST] == "closed"
    # The version's description says its gate, the champion rule's decision and the data.
    description = model_version.description
    assert description.startswith("**Gate:** ")
    assert "PASSED" in description.splitlines()[0]
    assert "**Promotion:** first" in description
    assert f"**Measured on:** {model_version.tags[contract.gate('measured_on')]}" in description
    # The champion rule's record: its test, level, p-value, decision and reason.
    for tags in (register_tags, model_version.tags):
        assert tags[contract.promotion("decision")] == "first"
        assert tags[contract.promotion("p_value")] == "none"
        assert float(tags[contract.promotion("alpha")]) == 0.05
        assert tags[contract.promotion("test")]
        assert "no champion yet" in tags[contract.promotion("reason")]
    logged_uri = model_version.tags[contract.promotion("evidence")]
    logged = evidence.from_csv(mlflow.artifacts.load_text(logged_uri))
    assert logged["loss"].tolist() == rows["loss"].tolist()
    assert client.get_registered_model(name).tags[contract.PROJECT] == name
    champion = client.get_model_version_by_alias(name, "champion")
    assert str(champion.version) == register_tags[contract.CHAMPION_VERSION] == version

    # score: the model's own input example, scored by the champion alias.
    example = mlflow.models.Model.load(model_uri).load_input_example(
        mlflow.artifacts.download_artifacts(model_uri)
    )
    source = store.root / "score-input.parquet"
    example.to_parquet(source)
    scored = project.invoke("score", "--input", str(source), "--output", str(store.root / "out"))
    assert scored.exit_code == 0, scored.output
    line = re.search(
        rf"^{name} score: run_id=({RUN_ID}) model_uri=models:/{name}/{version} "
        rf"rows_in={len(example)} rows_scored={len(example)} rows_rejected=0 rows_out=(\d+)",
        scored.stdout,
        re.M,
    )
    assert line, scored.output
    score_tags = client.get_run(line.group(1)).data.tags
    assert score_tags[contract.STEP] == "score"
    assert_named(score_tags, name, "score")
    assert score_tags[contract.REGISTERED_VERSION] == version
    assert score_tags[contract.OUTPUT] == str(store.root / "out")
    from lifecycle.io.manifests import read_output

    output = read_output(str(store.root / "out")).to_pandas()
    assert len(output) == int(line.group(2)) > 0
    assert set(output["model_version"]) == {int(version)}
    assert set(output["model_run_id"]) == {train_id}
    assert list(output.columns[-4:]) == ["model_name", "model_version", "model_run_id", "scored_at"]

    # monitor: the score output against the champion's reference profile, stored by train.
    from lifecycle.monitor.drift import Profile
    from lifecycle.monitor.verdicts import STATUSES

    profile = Profile.from_json(
        mlflow.artifacts.load_text(f"runs:/{train_id}/{contract.REFERENCE_PROFILE}")
    )
    assert profile.rows > 0
    assert profile.features
    monitored = project.invoke(
        "monitor", "--input", str(store.root / "out"), "--batch-date", "2026-03-01"
    )
    assert monitored.exit_code == 0, monitored.output
    line = re.search(
        rf"^{name} monitor: run_id=({RUN_ID}) model_uri=models:/{name}/{version} "
        rf"batch_date=2026-03-01 rows=(\d+) status=(\w+) drift=(none|drift|unjudged) ",
        monitored.stdout,
        re.M,
    )
    assert line, monitored.output
    monitor_id, _rows, status, _drift = line.groups()
    assert status in STATUSES
    monitor_run = client.get_run(monitor_id)
    assert monitor_run.info.status == "FINISHED"
    assert monitor_run.data.tags[contract.STEP] == "monitor"
    assert_named(monitor_run.data.tags, name, "monitor")
    assert monitor_run.data.tags[contract.monitor("status")] == status
    assert monitor_run.data.tags[contract.MODEL_URI] == f"models:/{name}/{version}"
    monitored_version = client.get_model_version(name, version)
    assert monitored_version.tags[contract.monitor("status")] == status
    assert monitored_version.tags[contract.monitor("run_id")] == monitor_id
    assert monitored_version.tags[contract.monitor("batch_date")] == "2026-03-01"
    artifacts = {item.path for item in client.list_artifacts(monitor_id, "monitor")}
    assert {"monitor/report.json", "monitor/report.html"} <= artifacts


def test_exit_codes_say_what_went_wrong(
    project: Project, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2: an option is refused before any work; no run is created.
    assert project.invoke("train", "--no-such-option", "1").exit_code == 2
    assert (
        project.invoke("register", "--model-uri", "runs:/x/model", "--model-name", "").exit_code
        == 2
    )
    assert all_runs(store) == []
    # 1: the step could not do its work; one line says why.
    missing = "runs:/0123456789abcdef0123456789abcdef/model"
    assert project.main("evaluate", "--model-uri", missing, monkeypatch=monkeypatch) == 1
    assert project.main("register", "--model-uri", "not-a-uri", monkeypatch=monkeypatch) == 1
    # monitor: degraded cannot be judged without the truth, so it is refused (2); a
    # missing input is a failed step (1).
    assert project.invoke("monitor", "--input", "x.csv", "--fail-on", "degraded").exit_code == 2
    assert project.main("monitor", "--input", "no-such.csv", monkeypatch=monkeypatch) == 1
    # 0: done (the lifecycle test above runs every step to 0).
