"""Every project folder's README documents its parameters as its MLproject declares
them: each table row names a real parameter of that entry point with its type and
default, and every parameter of every entry point has a row. Checked on every folder
discovery finds. Both are generated from the project's declarations; this checks the
generator end to end (the drift check in test_project_files.py catches a hand edit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lifecycle.sync import project_folders

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = project_folders()
TICKED = re.compile(r"`([^`]+)`")


def table_rows(readme: str) -> list[tuple[str, list[str], str, str, str]]:
    """(section, entry points, parameter, type, default) per parameter-table row.

    A table either has an ``entry point`` column (a blank cell repeats the one above)
    or takes its entry points from the section heading it stands under, where they are
    written in backticks (``## Tuning the tree: `tune` ``)."""
    rows = []
    section = ""
    header: list[str] = []
    entries: list[str] = []
    for line in readme.splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            header = []
            continue
        if not line.startswith("|"):
            header = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not header:
            header = [cell.lower() for cell in cells]
            continue
        if set(line) <= set("|-: ") or "parameter" not in header:
            continue
        record = dict(zip(header, cells, strict=False))
        if "entry point" in record:
            entries = TICKED.findall(record["entry point"]) or entries
        else:
            entries = TICKED.findall(section)
        for name in TICKED.findall(record["parameter"]):
            rows.append(
                (section, list(entries), name, record.get("type", ""), record.get("default", ""))
            )
    return rows


def same_default(documented: str, declared: dict) -> bool:
    if "default" not in declared:
        return documented == "required"
    value = declared["default"]
    if value == "":
        return documented == "empty"
    text = documented.strip("`")
    if declared["type"] in ("int", "float"):
        return float(text) == float(value)
    return text == str(value)


@pytest.mark.parametrize("folder", FOLDERS, ids=[folder.name for folder in FOLDERS])
def test_the_readme_parameter_tables_match_the_mlproject(folder: Path) -> None:
    readme = folder / "README.md"
    assert readme.is_file(), f"{folder.name} has no README.md"
    points = yaml.safe_load((folder / "MLproject").read_text())["entry_points"]
    documented: set[tuple[str, str]] = set()
    for section, entries, name, kind, default in table_rows(readme.read_text()):
        assert entries, f"{folder.name}: row {name!r} under {section!r} names no entry point"
        for entry in entries:
            assert entry in points, f"{folder.name}: no entry point {entry!r}"
            declared = points[entry]["parameters"].get(name)
            if declared is None:
                continue  # a shared row ("as for train") may list several entry points' names
            documented.add((entry, name))
            if kind:
                assert kind == declared["type"], f"{folder.name} {entry}.{name}: type {kind}"
            if default:
                assert same_default(default, declared), (
                    f"{folder.name} {entry}.{name}: README default {default!r}, "
                    f"MLproject {declared.get('default', 'required')!r}"
                )
    declared_all = {(entry, name) for entry, spec in points.items() for name in spec["parameters"]}
    missing = sorted(declared_all - documented - {("main", n) for _, n in declared_all})
    missing = [
        (entry, name)
        for entry, name in missing
        if not (entry == "main" and (("train", name) in documented))
    ]
    assert not missing, f"{folder.name}: parameters with no README row: {missing}"


def markdown_files() -> list[Path]:
    return sorted({*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("*/README.md")})


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(target)
        elif anchor and destination.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", destination.read_text(), re.M)
            if anchor not in {github_anchor(heading) for heading in headings}:
                broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"
