"""Copy the step kit (``lifecycle/``, every sub-package) into every project folder and
write each project's files generated from its parameter declarations, or check them all.

``python -m lifecycle.sync`` writes ``<project>/lifecycle/**/*.py``, each opening with a
line that says it is generated, and removes a copy whose source is gone;
``python -m lifecycle.sync --check`` exits 1 naming every copy that differs from its
source. A project folder is any folder beside this one with an ``MLproject`` file. The
copies make each folder self-contained: ``mlflow run`` from a git URI, or a copy of the
folder alone, imports its own ``lifecycle`` package. Git marks them generated
(``.gitattributes``: ``linguist-generated -diff``), and ruff and searches leave them out.

Each project's ``MLproject`` and the ``<!-- parameters: ... -->`` tables of its README
are generated from ``<package>/params.py`` (``lifecycle.params``): a parameter is edited
there, once.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from lifecycle.params import Parameter, ProjectDeclaration

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent
ROOT = SOURCE.parent
HEADER = "# Generated from lifecycle/{name} by python -m lifecycle.sync; edit the source.\n"
# The tooling that reads every project, at the kit's top: not part of a project's copy.
NOT_COPIED = {"sync.py", "fetch.py"}


def project_folders(root: Path = ROOT) -> list[Path]:
    """Every project folder of the collection: a direct subfolder with an MLproject."""
    return sorted(path.parent for path in root.glob("*/MLproject"))


def kit_sources() -> list[Path]:
    """The kit's modules a project carries, relative to the kit: every ``.py`` file of
    every sub-package, the tooling at the top aside."""
    return sorted(
        path.relative_to(SOURCE)
        for path in SOURCE.rglob("*.py")
        if "__pycache__" not in path.parts
        and not (path.parent == SOURCE and path.name in NOT_COPIED)
    )


def expected_copies(root: Path = ROOT) -> dict[Path, str]:
    """Each copy's path and the text it must hold."""
    texts = {
        relative: HEADER.format(name=relative.as_posix()) + (SOURCE / relative).read_text()
        for relative in kit_sources()
    }
    return {
        folder / "lifecycle" / relative: text
        for folder in project_folders(root)
        for relative, text in texts.items()
    }


def _copies(folder: Path) -> list[Path]:
    """The modules under a project's copy of the kit."""
    return [
        path for path in (folder / "lifecycle").rglob("*.py") if "__pycache__" not in path.parts
    ]


def stale_copies(root: Path = ROOT) -> list[Path]:
    """The copies and generated files that are missing, differ from their source, or
    have no source left."""
    expected = {**expected_copies(root), **generated_files(root)}
    stale = [
        path for path, text in expected.items() if not path.is_file() or path.read_text() != text
    ]
    for folder in project_folders(root):
        stale += [path for path in _copies(folder) if path not in expected]
    return sorted(stale)


def write_copies(root: Path = ROOT) -> list[Path]:
    """Bring every copy and generated file up to date; return the paths written or
    removed."""
    expected = {**expected_copies(root), **generated_files(root)}
    changed = stale_copies(root)
    for path in changed:
        if path in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[path])
        else:
            path.unlink()
            copy = next(
                folder / "lifecycle"
                for folder in project_folders(root)
                if path.is_relative_to(folder / "lifecycle")
            )
            _remove_empty_folders(path.parent, copy)
    return changed


def _remove_empty_folders(folder: Path, copy: Path) -> None:
    """Remove ``folder`` and the folders above it inside ``copy`` (a project's copy of
    the kit) while they hold nothing but byte code: what a removed sub-package of the
    kit leaves behind."""
    while folder != copy and folder.is_relative_to(copy):
        left = [path for path in folder.iterdir() if path.name != "__pycache__"]
        if left:
            return
        for cache in folder.glob("__pycache__"):
            for compiled in cache.iterdir():
                compiled.unlink()
            cache.rmdir()
        folder.rmdir()
        folder = folder.parent


# --- files generated from the declarations -----------------------------------------

GENERATED = (
    "# Generated from {package}/params.py by python -m lifecycle.sync; edit the declarations "
    "there.\n"
)
TABLE_START = re.compile(r"<!-- parameters: ([a-z_, ]+) -->\n")
TABLE_END = "<!-- end of parameters -->"


def declaration(folder: Path) -> ProjectDeclaration:
    """The ``PROJECT`` a project folder declares in ``<package>/params.py``: its one
    package with a ``params.py`` (the step kit's copy aside)."""
    found = sorted(
        path.parent.name
        for path in folder.glob("*/params.py")
        if path.parent.name not in ("lifecycle", "tests")
        and (path.parent / "__main__.py").is_file()
    )
    if len(found) != 1:
        raise ValueError(
            f"{folder.name}: expected one package with params.py and __main__.py, found "
            f"{', '.join(found) or 'none'}"
        )
    package = found[0]
    loaded = sys.modules.get(package)
    if loaded is not None and Path(loaded.__path__[0]).resolve() != (folder / package).resolve():
        # Another folder's package of that name (a scratch copy): read this one afresh.
        for name in [name for name in sys.modules if name.split(".")[0] == package]:
            del sys.modules[name]
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    module = importlib.import_module(f"{package}.params")
    project = getattr(module, "PROJECT", None)
    if not isinstance(project, ProjectDeclaration):
        raise ValueError(f"{folder.name}: {found[0]}/params.py declares no PROJECT")
    return project


def _yaml_value(value: Any) -> str:
    """``value`` as YAML that reads back as the same value: a string YAML would read as
    something else (``true``, ``1.0``) or that holds special characters is quoted."""
    import yaml

    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./-]*", value)
        return value if plain and yaml.safe_load(value) == value else json.dumps(value)
    return repr(value)


def render_mlproject(project: ProjectDeclaration) -> str:
    """The project's ``MLproject``: every entry point with its declared parameters and
    the command that passes each as its option."""
    lines = [GENERATED.format(package=project.package).rstrip()]
    lines += [f"# {line}" for line in project.summary.splitlines()]
    lines += [f"name: {project.name}", "", "conda_env: conda.yaml", "", "entry_points:"]
    for entry in project.entry_points:
        parameters = [parameter for _, parameter in entry.parameters()]
        block = ["    parameters:"]
        for parameter in parameters:
            default = "" if parameter.required else f", default: {_yaml_value(parameter.default)}"
            block.append(f"      {parameter.name}: {{type: {parameter.type}{default}}}")
        # An entry point whose command is "main" runs the package itself, with no step.
        step = "" if entry.command == "main" else f" {entry.command}"
        block += ["    command: >-", f"      python -m {project.package}{step}"]
        block += [f"      {parameter.option} {{{parameter.name}}}" for parameter in parameters]
        names = tuple(dict.fromkeys((*entry.aliases, entry.command)))
        if len(names) > 1:  # the first holds the block; the others refer to it (YAML anchors)
            block[0] += f" &{entry.command}_parameters"
            block[len(parameters) + 1] = f"    command: &{entry.command}_command >-"
        lines += [*(f"  # {line}" for line in textwrap.wrap(entry.help, 86))]
        lines += [f"  {names[0]}:", *block, ""]
        for name in names[1:]:
            lines += [f"  {name}:", f"    parameters: *{entry.command}_parameters"]
            lines += [f"    command: *{entry.command}_command", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def _allowed(parameter: Parameter) -> str:
    if parameter.constraint.choices:
        return "one of " + ", ".join(f"`{choice}`" for choice in parameter.constraint.choices)
    return _cell(parameter.allowed())


def render_table(project: ProjectDeclaration, commands: list[str]) -> str:
    """The README table of the parameters of ``commands``."""
    several = len(commands) > 1
    header = ["parameter", "type", "default", "what it sets", "allowed"]
    if several:
        header.insert(0, "entry point")
    lines = [
        f"<!-- generated from {project.package}/params.py by python -m lifecycle.sync -->",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for command in commands:
        entry = project.entry_point(command)
        names = ", ".join(f"`{name}`" for name in (*entry.aliases, entry.command))
        for index, (_, parameter) in enumerate(entry.parameters()):
            if parameter.required:
                default = "required"
            elif parameter.default == "":
                default = "empty"
            else:
                default = f"`{parameter.default}`"
            row = [
                f"`{parameter.name}`",
                parameter.type,
                default,
                _cell(parameter.constraint.help),
                _allowed(parameter),
            ]
            if several:
                row.insert(0, names if index == 0 else "")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def render_readme(project: ProjectDeclaration, text: str) -> str:
    """``text`` with every ``<!-- parameters: a, b -->`` block filled from the declarations."""
    out, position = [], 0
    for start in TABLE_START.finditer(text):
        end = text.find(TABLE_END, start.end())
        if end < 0:
            raise ValueError(f"{project.name}/README.md: {start.group(0).strip()} is never closed")
        commands = [name.strip() for name in start.group(1).split(",") if name.strip()]
        out += [text[position : start.end()], render_table(project, commands)]
        position = end
    out.append(text[position:])
    return "".join(out)


def generated_files(root: Path = ROOT) -> dict[Path, str]:
    """Each project's ``MLproject`` and README, as the declarations make them, and the
    repository's own (the orchestrator's, declared in ``orchestrator/params.py``) with
    the table in docs/orchestrator.md."""
    files = {}
    if (root / "orchestrator" / "params.py").is_file():
        orchestrator = declaration(root)
        files[root / "MLproject"] = render_mlproject(orchestrator)
        guide = root / "docs" / "orchestrator.md"
        if guide.is_file():
            files[guide] = render_readme(orchestrator, guide.read_text())
    for folder in project_folders(root):
        project = declaration(folder)
        files[folder / "MLproject"] = render_mlproject(project)
        readme = folder / "README.md"
        if readme.is_file():
            files[readme] = render_readme(project, readme.read_text())
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale copies")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        stale = stale_copies()
        for path in stale:
            logger.error("out of date: %s (run python -m lifecycle.sync)", path.relative_to(ROOT))
        return 1 if stale else 0
    for path in write_copies():
        logger.info("updated %s", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
