"""``python -m orchestrator new-project NAME``: a new, working project folder.

The folder is a ridge regression on scikit-learn's bundled diabetes data, with
``train``, ``evaluate``, ``register`` (a gate on the held-out R²) and ``score``, a served
model that refuses bad rows, and its README; its unit and CLI tests go to
``tests/unit/test_<name>_core.py`` and ``tests/cli/test_<name>_cli.py``. The MLproject
and the README's parameter table are generated from ``<name>_workflow/params.py``. It
keeps the project contract (docs/project-contract.md) with no edit: the orchestrator
runs it (``-P projects=NAME``) and ``mlflow models serve`` serves its champion. It is
written from ``template/``, pinned to the versions in the repository's ``conda.yaml``,
and given its copy of the step kit.
"""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import logging
import re
import subprocess
import sys
from pathlib import Path

import yaml

from orchestrator.selection import RESERVED_WORDS

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parent / "template"
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Folders of the repository that are not projects, and names a project cannot take.
RESERVED = frozenset(
    {"bench", "datasets", "deploy", "docs", "lifecycle", "orchestrator", "tests", "mlruns"}
)
PACKAGES = (
    "mlflow",
    "scikit-learn",
    "skops",
    "scipy",
    "pandas",
    "numpy",
    "click",
    "pyarrow",
    "pyspark",
)


class ScaffoldError(ValueError):
    """The project cannot be created; the message says why."""


def check_name(name: str, root: Path) -> None:
    """Refuse a name that is not a lower-case Python identifier (which is also a valid
    MLflow model name), a Python keyword, a word the orchestrator reserves, a folder of
    the repository, a module that can be imported already (its own or its package's
    name), or one whose folder or tests exist."""
    if not NAME.fullmatch(name):
        raise ScaffoldError(
            f"project name {name!r} must be a lower-case Python identifier of at most 40 "
            "characters: a letter, then letters, digits or '_' (e.g. diabetes)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(f"project name {name!r} is a Python keyword: choose another name")
    if name in RESERVED_WORDS:
        raise ScaffoldError(
            f"project name {name!r} is reserved: the orchestrator's -P projects= and -P force= "
            f"take {' and '.join(RESERVED_WORDS)} as words of their own"
        )
    if name in RESERVED:
        raise ScaffoldError(f"project name {name!r} is reserved for the repository's {name}/")
    if (root / name).exists():
        raise ScaffoldError(f"{root / name} already exists: choose another name")
    package = f"{name}_workflow"
    for module in (name, package):
        if module in sys.stdlib_module_names or _importable(module, root):
            raise ScaffoldError(
                f"project name {name!r} would shadow the module {module!r}, which is already "
                "importable here (standard library, an installed package or another project): "
                "choose another name"
            )
    clashes = [path for path in generated_test_files(name, root) if path.exists()]
    if clashes:
        raise ScaffoldError(f"{clashes[0]} already exists: choose another name")


def _importable(module: str, root: Path) -> bool:
    """Whether ``module`` is installed, or is a package of a project folder in ``root``."""
    if any((folder / module / "__init__.py").is_file() for folder in root.iterdir()):
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return True


def generated_test_files(name: str, root: Path) -> list[Path]:
    """The tests ``new-project`` writes into the repository's ``tests/``."""
    return [
        root / template.relative_to(TEMPLATE).with_suffix("").as_posix().replace("__NAME__", name)
        for template in sorted((TEMPLATE / "tests").rglob("*.tmpl"))
    ]


def conda_yaml(name: str, root: Path) -> str:
    """The project's environment, pinned to the repository's own pins."""
    conda = yaml.safe_load((root / "conda.yaml").read_text())
    pip = next(entry["pip"] for entry in conda["dependencies"] if isinstance(entry, dict))
    pins = {line.split("==")[0].lower(): line for line in pip}
    missing = [package for package in PACKAGES if package not in pins]
    if missing:
        raise ScaffoldError(f"{root / 'conda.yaml'} pins none of {', '.join(missing)}")
    conda_packages = [entry for entry in conda["dependencies"] if isinstance(entry, str)]
    lines = [
        f"# Environment of the {name} project. `mlflow run` builds it with conda (the",
        "# default), or with uv / virtualenv from the same file (`--env-manager uv`).",
        f"name: {name}",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        *(f"  - {entry}" for entry in conda_packages),
        "  - pip:",
        *(f"      - {pins[package]}" for package in PACKAGES),
    ]
    return "\n".join(lines) + "\n"


def new_project(name: str, root: Path = REPOSITORY_ROOT) -> Path:
    """Write the project folder ``root/name`` and its step kit copy; return the folder."""
    check_name(name, root)
    package = f"{name}_workflow"
    folder = root / name
    files = {}
    for template in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATE).with_suffix("")
        text = template.read_text().replace("__PACKAGE__", package).replace("__NAME__", name)
        if relative.parts[0] == "tests":  # the project's unit and CLI tests, beside the others
            files[root / relative.as_posix().replace("__NAME__", name)] = text
            continue
        if relative.parts[0] == "package":
            relative = Path(package, *relative.parts[1:])
        files[folder / relative] = text
    files[folder / "conda.yaml"] = conda_yaml(name, root)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    tidy([path for path in files if path.suffix == ".py"], root)

    from lifecycle import sync

    (folder / "MLproject").write_text(sync.render_mlproject(sync.declaration(folder)))
    sync.write_copies(root)
    return folder


def tidy(paths: list[Path], root: Path) -> None:
    """Sort the imports and format the written modules as the repository's ruff does:
    where a project's imports sort depends on its name. Without ruff (an environment
    with no dev tools) the files stay as written, which runs the same."""
    if importlib.util.find_spec("ruff") is None:
        logger.warning("ruff is not installed: the new files' imports were not sorted")
        return
    for command in (["check", "--select", "I", "--fix"], ["format"]):
        subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--quiet", *map(str, paths)],
            cwd=root,
            capture_output=True,
            timeout=120,
            check=False,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator new-project", description=__doc__.splitlines()[0]
    )
    parser.add_argument("name", help="the project's name: a lower-case Python identifier")
    parser.add_argument("--root", type=Path, default=REPOSITORY_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        folder = new_project(args.name, args.root.resolve())
    except ScaffoldError as error:
        logger.error("Error: %s", error)
        return 2
    tests = " ".join(
        str(path.relative_to(args.root.resolve()))
        for path in generated_test_files(args.name, args.root.resolve())
    )
    logger.info(
        "created %s and its tests (%s): try `python -m pytest %s`, "
        "`mlflow run %s --env-manager local`, then "
        "`mlflow run . -P projects=%s --env-manager local`",
        folder,
        tests,
        tests,
        args.name,
        args.name,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
