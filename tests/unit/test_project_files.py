"""The project files agree with the code and with each other: MLproject parameters and
click options (both generated from one declaration: this checks the generator, and the
orchestrator's hand-written MLproject), conda.yaml pins and the installed versions, the
dataset and its card, and the generated files and kit copies against their sources."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import yaml

from lifecycle.step import command as command_module

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIRS = [ROOT, *sorted(p.parent for p in ROOT.glob("*/MLproject"))]
# The click types of the declared parameter types: integers and numbers read strictly
# (lifecycle.step.command), so ``3_0`` is refused rather than read as 30.
CLICK_TYPES = {
    "int": command_module.StrictInteger,
    "float": command_module.StrictNumber,
    "string": type(click.STRING),
}
REQUIRED_PACKAGES = {"mlflow", "scikit-learn", "pandas", "numpy", "click"}


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def entry_points() -> list[tuple[Path, str, dict]]:
    return [
        (project, name, spec)
        for project in PROJECT_DIRS
        for name, spec in load_yaml(project / "MLproject")["entry_points"].items()
    ]


def click_command_for(command: str, project: Path = ROOT) -> click.Command:
    """The click command an MLproject command line runs (``python -m <package> [sub]``),
    imported from its project folder."""
    tokens = shlex.split(command)
    assert tokens[:2] == ["python", "-m"], command
    if str(project) not in sys.path:
        sys.path.append(str(project))
    module = importlib.import_module(f"{tokens[2]}.cli")
    root = getattr(module, "cli", None) or module.main
    if isinstance(root, click.Group):
        return root.commands[tokens[3]]
    if len(tokens) > 3 and not tokens[3].startswith("-"):
        # The orchestrator's further entry points: ``python -m orchestrator monitor``.
        command = getattr(module, tokens[3])
        assert isinstance(command, click.Command), command
        return command
    return root


@pytest.mark.parametrize(
    ("project", "entry", "spec"),
    entry_points(),
    ids=[f"{p.name or 'root'}:{e}" for p, e, _ in entry_points()],
)
def test_every_parameter_is_typed_and_matches_its_click_option(
    project: Path, entry: str, spec: dict
) -> None:
    command = click_command_for(spec["command"], project)
    options = {
        option.opts[0]: option
        for option in command.params
        if isinstance(option, click.Option) and not option.is_flag
    }
    for name, parameter in spec["parameters"].items():
        flag = "--" + name.replace("_", "-")
        assert parameter["type"] in CLICK_TYPES, f"{entry}.{name} has type {parameter['type']}"
        assert flag in options, f"{entry}.{name}: no click option {flag}"
        option = options[flag]
        assert isinstance(option.type, CLICK_TYPES[parameter["type"]]), f"{entry}.{name} type"
        assert "{" + name + "}" in spec["command"], f"{entry}.{name} is not passed on"
        assert f"{flag} {{{name}}}" in " ".join(spec["command"].split())
        if "default" in parameter:
            assert option.default == parameter["default"], f"{entry}.{name} default differs"
        else:
            assert option.required, f"{entry}.{name} has no default, so the option is required"
    mlproject_flags = {"--" + name.replace("_", "-") for name in spec["parameters"]}
    assert set(options) == mlproject_flags, f"{entry}: click options not in MLproject"


@pytest.mark.parametrize("project", PROJECT_DIRS[1:], ids=lambda p: p.name)
def test_main_entry_points_train(project: Path) -> None:
    spec = load_yaml(project / "MLproject")["entry_points"]
    assert spec["main"] == spec["train"]
    assert {"train", "evaluate", "register"} <= set(spec)


def pip_pins(conda_file: Path) -> dict[str, str]:
    conda = load_yaml(conda_file)
    pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    pins = {}
    for line in pip_section:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9.]*)", line)
        assert match, f"{conda_file}: {line!r} is not pinned with =="
        pins[match.group(1).lower()] = match.group(2)
    return pins


@pytest.mark.parametrize("project", PROJECT_DIRS, ids=lambda p: p.name or "root")
def test_conda_yaml_is_pinned_to_the_tested_versions(project: Path) -> None:
    conda_file = project / "conda.yaml"
    conda = load_yaml(conda_file)
    assert conda["channels"] == ["conda-forge"]
    assert "python=3.11" in conda["dependencies"]
    conda_packages = [d for d in conda["dependencies"] if isinstance(d, str)]
    assert all(re.fullmatch(r"[a-z0-9_-]+=[0-9.]+", d) for d in conda_packages), conda_packages
    pins = pip_pins(conda_file)
    assert set(pins) >= REQUIRED_PACKAGES
    for package, pinned in pins.items():
        assert version(package) == pinned, f"{conda_file}: {package} pinned {pinned}"
    assert tuple(int(p) for p in pins["mlflow"].split(".")[:2]) >= (3, 17)
    assert load_yaml(project / "MLproject")["conda_env"] == "conda.yaml"


def test_orchestrator_environment_holds_every_project_pin() -> None:
    root_pins = pip_pins(ROOT / "conda.yaml")
    for project in PROJECT_DIRS[1:]:
        for package, pinned in pip_pins(project / "conda.yaml").items():
            assert root_pins.get(package) == pinned, f"{project.name}: {package}"


def test_dev_dependencies_pin_the_same_runtime_versions() -> None:
    import tomllib

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    dev_pins = dict(line.lower().split("==") for line in dev)
    for package, pinned in pip_pins(ROOT / "conda.yaml").items():
        assert dev_pins.get(package) == pinned, package


def test_iris_csv_is_exactly_what_scikit_learn_bundles_and_the_card_says() -> None:
    text = (ROOT / "datasets" / "iris.csv").read_text()
    checked = subprocess.run(
        [sys.executable, str(ROOT / "datasets" / "write_iris.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "is up to date" in checked.stdout
    digest = hashlib.sha256(text.encode()).hexdigest()
    card = (ROOT / "datasets" / "README.md").read_text()
    assert f"`{digest}`" in card
    assert f"{len(text.encode()):,} bytes" in card


def pinned_files() -> dict:
    from lifecycle.fetch import pinned_files

    return {pinned.relative_path: pinned for pins in pinned_files().values() for pinned in pins}


@pytest.mark.parametrize("name", sorted(pinned_files()))
def test_every_pinned_file_is_in_the_mirror_and_on_its_card(
    name: str, datasets_mirror: Path
) -> None:
    from lifecycle.io.datasets import sha256_of

    spec = pinned_files()[name]
    path = datasets_mirror / spec.dataset / spec.filename
    assert sha256_of(path) == spec.sha256
    assert path.stat().st_size == spec.size
    card = (ROOT / "datasets" / "README.md").read_text()
    assert f"`{spec.sha256}`" in card
    assert spec.url in card
    assert f"{spec.size:,} bytes" in card


def test_every_project_folder_carries_an_up_to_date_copy_of_the_step_kit() -> None:
    from lifecycle import sync

    folders = {folder.name for folder in sync.project_folders()}
    assert {"iris", "gold_prices", "cities"} <= folders
    assert sync.stale_copies() == [], "run: python -m lifecycle.sync"
    for folder in sync.project_folders():
        for copy in (folder / "lifecycle").glob("*.py"):
            assert copy.read_text().startswith("# Generated from lifecycle/"), copy


def test_the_drift_check_notices_an_edited_copy(tmp_path) -> None:
    import shutil

    from lifecycle import sync

    package = tmp_path / "demo" / "drift_demo_workflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("")
    (package / "params.py").write_text(
        "from lifecycle.params import EntryPoint, ModelParams, ProjectDeclaration\n"
        "PROJECT = ProjectDeclaration('demo', 'drift_demo_workflow', 'A demo.', (\n"
        "    EntryPoint('evaluate', 'Evaluate.', (ModelParams,)),))\n"
    )
    (tmp_path / "demo" / "MLproject").write_text("name: demo\n")
    written = {
        path.relative_to(tmp_path / "demo").as_posix() for path in sync.write_copies(tmp_path)
    }
    assert written >= {"lifecycle/register/registry.py", "lifecycle/stop.py", "MLproject"}
    assert "lifecycle/sync.py" not in written
    assert sync.stale_copies(tmp_path) == []
    mlproject = tmp_path / "demo" / "MLproject"
    assert "--model-uri {model_uri}" in mlproject.read_text()
    mlproject.write_text(mlproject.read_text().replace("model_uri: {type: string}", "x: {}"))
    assert sync.stale_copies(tmp_path) == [mlproject]
    sync.write_copies(tmp_path)
    copy = tmp_path / "demo" / "lifecycle" / "register" / "rule.py"
    copy.write_text(copy.read_text() + "# local edit\n")
    orphan = tmp_path / "demo" / "lifecycle" / "gone" / "orphan.py"
    orphan.parent.mkdir()
    orphan.write_text("")
    assert set(sync.stale_copies(tmp_path)) == {copy, orphan}
    sync.write_copies(tmp_path)
    assert sync.stale_copies(tmp_path) == []
    assert not orphan.parent.exists(), "a sub-package whose source is gone stays behind"
    shutil.rmtree(tmp_path / "demo")


def test_every_generated_default_reads_back_as_declared() -> None:
    """The generated MLproject files hold each default as YAML that loads as the declared
    value: a string like ``true`` or ``1.0`` is quoted."""
    from lifecycle import sync

    for folder in [ROOT, *sync.project_folders()]:
        entry_points = load_yaml(folder / "MLproject")["entry_points"]
        for entry in sync.declaration(folder).entry_points:
            for _, parameter in entry.parameters():
                for name in dict.fromkeys((*entry.aliases, entry.command)):
                    declared = entry_points[name]["parameters"][parameter.name]
                    if parameter.required:
                        assert "default" not in declared
                    else:
                        assert declared["default"] == parameter.default
                        assert type(declared["default"]) is type(parameter.default)
