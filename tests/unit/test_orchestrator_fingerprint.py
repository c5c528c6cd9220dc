"""Unit tests of what the step cache key is made of: code, environment and data hashes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestrator import fingerprint

ROOT = Path(__file__).resolve().parents[2]


def make_project(root: Path) -> Path:
    project = root / "demo"
    (project / "pkg").mkdir(parents=True)
    (project / "MLproject").write_text("name: demo\nconda_env: conda.yaml\nentry_points: {}\n")
    (project / "conda.yaml").write_text("dependencies: [python=3.11]\n")
    (project / "pkg" / "core.py").write_text("DEPTH = 3\n")
    (root / "datasets").mkdir()
    (root / "datasets" / "fetch.py").write_text("PINNED = {}\n")
    return project


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    project = make_project(tmp_path)
    (tmp_path / ".gitignore").write_text("*.db\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "start")
    return project


def test_uncommitted_edits_and_new_files_change_the_code_hash(repository: Path) -> None:
    root = repository.parent
    before = fingerprint.code_sha256(repository, root)
    assert fingerprint.code_sha256(repository, root) == before
    (repository / "pkg" / "core.py").write_text("DEPTH = 4\n")
    edited = fingerprint.code_sha256(repository, root)
    assert edited != before
    (repository / "pkg" / "extra.py").write_text("X = 1\n")
    added = fingerprint.code_sha256(repository, root)
    assert added != edited
    (repository / "pkg" / "extra.py").unlink()
    (repository / "pkg" / "core.py").write_text("DEPTH = 3\n")
    assert fingerprint.code_sha256(repository, root) == before


def test_ignored_output_and_byte_code_do_not_count(repository: Path) -> None:
    root = repository.parent
    before = fingerprint.code_sha256(repository, root)
    (repository / "mlflow.db").write_bytes(b"runs")
    assert fingerprint.code_sha256(repository, root) == before


def test_a_deleted_tracked_file_changes_the_hash(repository: Path) -> None:
    root = repository.parent
    before = fingerprint.code_sha256(repository, root)
    (repository / "pkg" / "core.py").unlink()
    assert fingerprint.code_sha256(repository, root) != before


def test_shared_code_counts(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No project runs code from outside its folder today; a file listed as shared
    # would still count.
    monkeypatch.setattr(fingerprint, "SHARED_CODE", ("datasets/fetch.py",))
    root = repository.parent
    before = fingerprint.code_sha256(repository, root)
    (root / "datasets" / "fetch.py").write_text("PINNED = {'x': 1}\n")
    assert fingerprint.code_sha256(repository, root) != before


def test_outside_git_the_folder_is_walked_without_byte_code(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    before = fingerprint.code_sha256(project, tmp_path)
    (project / "pkg" / "__pycache__").mkdir()
    (project / "pkg" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\0")
    (project / ".hidden").write_text("x")
    assert fingerprint.code_sha256(project, tmp_path) == before
    (project / "pkg" / "core.py").write_text("DEPTH = 4\n")
    assert fingerprint.code_sha256(project, tmp_path) != before


def test_the_environment_hash_follows_the_file_mlproject_names(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    assert fingerprint.environment_file(project) == project / "conda.yaml"
    before = fingerprint.env_sha256(project)
    (project / "conda.yaml").write_text("dependencies: [python=3.12]\n")
    assert fingerprint.env_sha256(project) != before


def test_data_hash_of_a_data_path_relative_to_the_repository(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a\n1\n")
    first = fingerprint.data_sha256("demo", {"data_path": "data.csv"}, tmp_path)
    assert first == {"data.csv": fingerprint.sha256_of(tmp_path / "data.csv")}
    (tmp_path / "data.csv").write_text("a\n2\n")
    assert fingerprint.data_sha256("demo", {"data_path": "data.csv"}, tmp_path) != first
    assert fingerprint.data_sha256("demo", {"data_path": "gone.csv"}, tmp_path) == {
        "gone.csv": "missing"
    }
    assert fingerprint.data_sha256("demo", {"model_uri": "runs:/x/model"}, tmp_path) == {}


def test_an_empty_data_path_means_the_pinned_dataset() -> None:
    digests = fingerprint.data_sha256("gold_prices", {"data_path": ""}, ROOT)
    ((name, digest),) = digests.items()
    assert name == "pinned:gold_prices/XAU_1d_data.csv"
    assert len(digest) == 64
    assert fingerprint.data_sha256("iris", {"data_path": ""}, ROOT) == {}
