"""No module of the step kit, the orchestrator, the bench, the deploy tools or a project
package imports itself back through others: every import counts, at module level or
inside a function (only ``if TYPE_CHECKING:`` blocks, never run, are left out)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lifecycle.sync import project_folders

ROOT = Path(__file__).resolve().parents[2]


def packages() -> dict[str, Path]:
    """Each top-level package checked, by name: the shared ones and every project's."""
    found = {name: ROOT / name for name in ("lifecycle", "orchestrator", "bench", "deploy")}
    for folder in project_folders(ROOT):
        for init in folder.glob("*/__init__.py"):
            if init.parent.name != "lifecycle":
                found[init.parent.name] = init.parent
    return found


def module_files() -> dict[str, Path]:
    """Module name -> file, for every module of the packages."""
    modules = {}
    for name, folder in packages().items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            dotted = ".".join((name, *parts))
            modules[dotted.removesuffix(".__init__")] = path
    return modules


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs, leaving out the bodies of ``if TYPE_CHECKING:``."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules among ``known`` that ``module`` (at ``path``) imports."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(graph[node]):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    # A package's __init__ is a module of its own; importing a sibling through it is not
    # an import of every module in the package.
    return {module: imports_of(path, module, known) for module, path in files.items()}


def floor_of(module: str) -> tuple[int, str]:
    """(floor, family) of a module of the step kit: ``lifecycle.io.tables`` is on the
    floor of ``io``; a module of the ground floor is a family of its own."""
    from lifecycle import FLOORS

    family = module.split(".")[1]
    for number, families in enumerate(FLOORS):
        if family in families:
            return number, family
    raise AssertionError(f"{module} is on no floor of lifecycle.FLOORS")


def test_the_kit_imports_only_downwards() -> None:
    """The step kit's floors (``lifecycle.FLOORS``): a module imports from its own
    family or a lower floor; never upwards, never from a family beside its own (monitor
    does not import score), except on the ground floor, whose modules are all pure."""
    graph = import_graph()
    wrong = []
    for module, targets in graph.items():
        if not module.startswith("lifecycle."):
            continue
        floor, family = floor_of(module)
        for target in targets:
            if not target.startswith("lifecycle.") or target == "lifecycle":
                continue
            target_floor, target_family = floor_of(target)
            sideways = target_floor == floor and target_family != family and floor > 0
            if target_floor > floor or sideways:
                wrong.append(f"{module} -> {target}")
    assert wrong == [], "imports against the kit's floors: " + "; ".join(sorted(wrong))


def test_every_kit_module_is_on_a_floor() -> None:
    from lifecycle import FLOORS

    families = {name for floor in FLOORS for name in floor}
    found = {
        path.relative_to(ROOT / "lifecycle").parts[0].removesuffix(".py")
        for path in (ROOT / "lifecycle").glob("*")
        if path.name != "__pycache__" and path.name != "__init__.py"
    }
    assert found == families


def test_no_module_imports_itself_back() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(group) for group in found)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list) -> None:
    assert cycles(graph) == expected


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import typing_only\n"
        "def f():\n    from pkg import hidden\n"
    )
    known = {"pkg", "pkg.hidden", "pkg.typing_only", "pkg.m"}
    assert imports_of(source, "pkg.m", known) == {"pkg.hidden", "pkg"}
