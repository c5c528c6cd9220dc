"""``python -m orchestrator new-project NAME`` refuses bad names and writes a complete
project folder: the package, MLproject, conda.yaml pinned like the repository's, a
README and its copy of the step kit."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator import scaffold

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "conda.yaml", tmp_path / "conda.yaml")
    (tmp_path / "existing").mkdir()
    (tmp_path / "store" / "shop_workflow").mkdir(parents=True)
    (tmp_path / "store" / "shop_workflow" / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Diabetes", "lower-case Python identifier"),
        ("9lives", "lower-case Python identifier"),
        ("my-project", "lower-case Python identifier"),
        ("a/b", "lower-case Python identifier"),
        ("", "lower-case Python identifier"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("all", "reserved: the orchestrator"),
        ("none", "reserved: the orchestrator"),
        ("json", "would shadow the module 'json'"),
        ("mlflow", "would shadow the module 'mlflow'"),
        ("shop", "would shadow the module 'shop_workflow'"),
        ("x" * 41, "lower-case Python identifier"),
        ("lifecycle", "reserved"),
        ("tests", "reserved"),
        ("existing", "already exists"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_is_written(root: Path, name: str, reason: str) -> None:
    before = sorted(root.rglob("*"))
    with pytest.raises(scaffold.ScaffoldError, match=reason):
        scaffold.new_project(name, root)
    assert sorted(root.rglob("*")) == before


def test_the_cli_exits_2_on_a_bad_name(root: Path, capsys: pytest.CaptureFixture) -> None:
    assert scaffold.main(["Bad-Name", "--root", str(root)]) == 2


def test_a_new_project_is_complete(root: Path) -> None:
    folder = scaffold.new_project("diabetes", root)
    assert folder == root / "diabetes"
    package = folder / "diabetes_workflow"
    for module in (
        "__init__",
        "__main__",
        "cli",
        "core",
        "data",
        "served",
        "served_model",
        "steps",
        "tracking",
    ):
        source = (package / f"{module}.py").read_text()
        ast.parse(source)
        assert "__NAME__" not in source
        assert "__PACKAGE__" not in source
    spec = yaml.safe_load((folder / "MLproject").read_text())
    assert spec["name"] == "diabetes"
    assert {"main", "train", "evaluate", "register"} <= set(spec["entry_points"])
    assert spec["entry_points"]["register"]["parameters"]["model_name"]["default"] == "diabetes"
    conda = yaml.safe_load((folder / "conda.yaml").read_text())
    pip = next(entry["pip"] for entry in conda["dependencies"] if isinstance(entry, dict))
    root_conda = yaml.safe_load((ROOT / "conda.yaml").read_text())
    root_pip = next(e["pip"] for e in root_conda["dependencies"] if isinstance(e, dict))
    assert set(pip) <= set(root_pip)
    readme = (folder / "README.md").read_text()
    assert readme.startswith("# diabetes\n")
    assert "| `min_r2` | float | `0.3` |" in readme
    mlproject = (folder / "MLproject").read_text()
    assert mlproject.startswith("# Generated from diabetes_workflow/params.py")
    assert "--min-r2 {min_r2}" in mlproject
    for test in ("tests/unit/test_diabetes_core.py", "tests/cli/test_diabetes_cli.py"):
        source = (root / test).read_text()
        ast.parse(source)
        assert "from diabetes_workflow" in source
        assert "__NAME__" not in source
    with pytest.raises(scaffold.ScaffoldError, match="already exists"):
        scaffold.new_project("diabetes", root)
    from lifecycle import sync

    assert (folder / "lifecycle" / "contract.py").is_file()
    assert sync.stale_copies(root) == []


def test_a_new_project_passes_the_repositorys_lint_whatever_its_name_sorts_after(
    root: Path,
) -> None:
    """A package named after ``lifecycle`` sorts after it: the scaffold sorts the imports."""
    import subprocess
    import sys

    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    scaffold.new_project("wine", root)
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "wine", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
