"""Unit tests of the orchestrator's pure helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator import core


def test_discovers_folders_with_an_mlproject(tmp_path: Path) -> None:
    for name in ("iris", "cities", ".hidden", "notes"):
        (tmp_path / name).mkdir()
    for name in ("iris", "cities", ".hidden"):
        (tmp_path / name / "MLproject").write_text("name: x\n")
    assert core.discover_projects(tmp_path) == ["cities", "iris"]


def test_discovers_the_repository_projects() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "iris" in core.discover_projects(root)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("all", ["cities", "iris"]),
        ("iris", ["iris"]),
        (" iris , cities ", ["iris", "cities"]),
        ("iris,iris", ["iris"]),
    ],
)
def test_select_projects(requested: str, expected: list[str]) -> None:
    assert core.select_projects(requested, ["cities", "iris"]) == expected


@pytest.mark.parametrize("requested", ["", " , ", "iris,nope"])
def test_select_projects_rejects_unknown_or_empty(requested: str) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.select_projects(requested, ["cities", "iris"])
    assert caught.value.name == "projects"
    assert "iris" in caught.value.allowed


def test_the_orchestrators_own_options_are_checked_by_their_declaration() -> None:
    from orchestrator.params import OrchestratorParams

    assert OrchestratorParams(env_manager="uv").env_manager == "uv"
    with pytest.raises(core.ParameterError, match="local, uv, virtualenv, conda"):
        OrchestratorParams(env_manager="docker")
    with pytest.raises(core.ParameterError, match="max_parallel"):
        OrchestratorParams(max_parallel=-1)
    assert OrchestratorParams(use_cache=" TRUE ").use_cache == " TRUE "  # parse_flag reads it


def test_model_uri_and_failed_run_id() -> None:
    assert core.model_uri_for("abc123") == "runs:/abc123/model"
    assert core.failed_run_id("Run (ID '0f1e2d') failed") == "0f1e2d"
    assert core.failed_run_id("something else") is None


def test_summary_table_has_a_row_per_project_and_explains_failures() -> None:
    good = core.ChainResult(
        project="iris",
        run_ids={"train": "t1", "evaluate": "e1", "register": "r1"},
        metrics={"test_accuracy": 0.97},
        gate_metric="accuracy",
        gate_value=0.97,
        gate_decision="passed",
        registered_version="2",
        promotion_decision="promoted",
        promotion_p_value=0.0037689,
        champion_version="2",
        gate_summary="gate PASSED: accuracy 0.9700 >= 0.9000",
        cache={"train": "hit", "evaluate": "hit", "register": "miss"},
    )
    bad = core.ChainResult(
        project="cities",
        run_ids={"train": "t2"},
        failed_step="train",
        error="boom",
        cache={"train": "forced"},
    )
    table = core.format_summary([good, bad])
    lines = table.splitlines()
    assert lines[0].split() == [
        "project",
        "status",
        "train",
        "run",
        "evaluate",
        "run",
        "register",
        "run",
        "key",
        "metrics",
        "gate",
        "version",
        "promotion",
        "champion",
        "cache",
    ]
    iris_row = lines[2].split()
    assert iris_row[:5] == ["iris", "ok", "t1", "e1", "r1"]
    assert "test_accuracy=0.9700" in lines[2]
    assert "passed accuracy=0.9700" in lines[2]
    assert iris_row[-5:] == ["2", "promoted", "p=0.003769", "2", "hit/hit/miss"]
    assert "FAILED at train" in lines[3]
    assert lines[3].split()[-1] == "forced/-/-"
    assert lines[-3] == "iris: gate PASSED: accuracy 0.9700 >= 0.9000"
    assert lines[-2] == "cities: train failed: boom"
    assert lines[-1] == "step cache: 2 hit, 1 miss, 1 forced, 0 off"
    records = json.loads(core.summary_json([good, bad]))
    assert [record["ok"] for record in records] == [True, False]


IRIS_LIKE = """
name: demo
entry_points:
  train:
    parameters: &train
      max_depth: {type: int, default: 5}
      C: {type: float, default: 1}
      model: {type: string, default: tree}
      data_path: {type: string, default: data.csv}
    command: "python train.py"
  main:
    parameters: *train
    command: "python train.py"
  evaluate:
    parameters:
      model_uri: {type: string}
    command: "python evaluate.py {model_uri}"
  register:
    parameters:
      model_uri: string
      gate_threshold: {type: float, default: 0.9}
    command: "python register.py {model_uri}"
  score:
    parameters:
      input: string
      output: string
    command: "python score.py {input} {output}"
"""


def declared() -> dict[str, dict[str, core.ParamSpec]]:
    return core.entry_point_parameters(IRIS_LIKE)


def test_entry_point_parameters_follow_anchors_and_the_short_form() -> None:
    parameters = declared()
    assert parameters["main"] == parameters["train"]
    assert parameters["train"]["max_depth"] == core.ParamSpec("int", 5, True)
    assert parameters["register"]["model_uri"] == core.ParamSpec("string", None, False)


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("int", [3, "3", " 3 ", 3.0, "3.0"], "3"),
        ("float", [1, "1", 1.0, "1.0", "1e0"], "1.0"),
        ("float", [0.3, "0.3", ".3"], "0.3"),
        ("string", ["3", 3], "3"),
        ("string", [None, ""], ""),
    ],
)
def test_values_are_normalised_by_their_declared_type(
    kind: str, values: list[object], expected: str
) -> None:
    spec = core.ParamSpec(kind, None, False)
    assert {core.normalise_value("p", spec, value) for value in values} == {expected}


def test_a_string_parameter_keeps_3_and_3_0_apart() -> None:
    spec = core.ParamSpec("string", None, False)
    assert core.normalise_value("p", spec, "3") != core.normalise_value("p", spec, "3.0")


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("int", "3.5", "must be an integer"),
        ("int", "3_0", "must be an integer written plainly, without _"),
        ("float", "1_0.5", "must be a number written plainly, without _"),
        ("int", "three", "must be an integer"),
        ("int", True, "must be an integer"),
        ("float", "abc", "must be a number"),
        ("float", "nan", "must be a finite number"),
    ],
)
def test_values_that_do_not_fit_the_type_are_refused(
    kind: str, value: object, message: str
) -> None:
    with pytest.raises(core.ParameterError, match=message):
        core.normalise_value("max_depth", core.ParamSpec(kind, None, False), value)


def test_step_parameters_fill_defaults_and_take_only_what_the_step_declares() -> None:
    parameters = declared()
    overrides = {"max_depth": "3", "gate_threshold": "0.95"}
    assert core.step_parameters(parameters["train"], overrides, {}, "train") == {
        "max_depth": "3",
        "C": "1.0",
        "model": "tree",
        "data_path": "data.csv",
    }
    assert core.step_parameters(
        parameters["register"], overrides, {"model_uri": "runs:/t/model"}, "register"
    ) == {"model_uri": "runs:/t/model", "gate_threshold": "0.95"}
    with pytest.raises(core.ParameterError, match="requires it"):
        core.step_parameters(parameters["evaluate"], {}, {}, "evaluate")


def test_overrides_are_parsed_checked_and_normalised() -> None:
    projects = {"iris": declared(), "cities": declared()}
    assert core.parse_overrides(
        " iris.max_depth=3.0, iris.C=2 ,cities.model=forest", ["iris", "cities"], projects
    ) == {"iris": {"max_depth": "3", "C": "2.0"}, "cities": {"model": "forest"}}
    assert core.parse_overrides("", ["iris"], projects) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_depth=3", "write project.parameter=value"),
        ("iris.max_depth", "write project.parameter=value"),
        ("gold.max_depth=3", "project gold is not selected"),
        ("iris.depth=3", "iris has no parameter depth; it takes C, data_path"),
        ("iris.model_uri=runs:/x/model", "iris has no parameter model_uri"),
        ("iris.max_depth=deep", "iris.max_depth is int: it must be an integer"),
        ("iris.C=abc", "iris.C is float: it must be a number"),
        ("iris.max_depth=3,iris.max_depth=4", "iris.max_depth is given twice"),
        ("iris.C=1, iris.C=1", "iris.C is given twice"),
        ("iris.max_depth=3_0", "iris.max_depth is int: it must be an integer written plainly"),
        (
            "iris.input=batch.csv",
            "iris.input is a parameter of iris's score entry point, which this run does not "
            "start \\(it runs train, evaluate, register\\)",
        ),
    ],
)
def test_bad_overrides_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(core.ParameterError, match=message):
        core.parse_overrides(text, ["iris"], {"iris": declared()})


def test_max_parallel_flags_and_force() -> None:
    assert core.step_slots(0, 8) == 8
    assert core.step_slots(3, 8) == 3
    assert core.parse_flag("use_cache", " TRUE ") is True
    assert core.parse_flag("use_cache", "no") is False
    with pytest.raises(core.ParameterError, match="use_cache='maybe'"):
        core.parse_flag("use_cache", "maybe")
    assert core.parse_force("", ["iris", "cities"]) == frozenset()
    assert core.parse_force("none", ["iris", "cities"]) == frozenset()
    assert core.parse_force("all", ["iris", "cities"]) == {"iris", "cities"}
    assert core.parse_force("cities", ["iris", "cities"]) == {"cities"}
    with pytest.raises(core.ParameterError, match="gold not among the selected"):
        core.parse_force("gold", ["iris"])


def ingredients(**changes: object) -> core.StepIngredients:
    base = {
        "project": "iris",
        "entry_point": "train",
        "parameters": {"max_depth": "3", "C": "1.0"},
        "code_sha256": "c" * 64,
        "env_sha256": "e" * 64,
        "data_sha256": {"datasets/iris.csv": "d" * 64},
        "upstream_run_ids": (),
    }
    return core.StepIngredients(**{**base, **changes})


def test_the_cache_key_changes_with_each_ingredient_alone() -> None:
    key = ingredients().key()
    assert ingredients(parameters={"C": "1.0", "max_depth": "3"}).key() == key
    changed = [
        ingredients(project="cities"),
        ingredients(entry_point="evaluate"),
        ingredients(parameters={"max_depth": "4", "C": "1.0"}),
        ingredients(code_sha256="f" * 64),
        ingredients(env_sha256="f" * 64),
        ingredients(data_sha256={"datasets/iris.csv": "f" * 64}),
        ingredients(upstream_run_ids=("abc",)),
    ]
    keys = [item.key() for item in changed]
    assert key not in keys
    assert len(set(keys)) == len(keys)
    assert len(key) == 64


def test_the_cache_filter_only_takes_a_key() -> None:
    key = ingredients().key()
    assert core.cache_filter(key) == (
        f"tags.`orchestrator.cache_key` = '{key}' and attributes.status = 'FINISHED'"
    )
    with pytest.raises(ValueError, match="not a cache key"):
        core.cache_filter("x' or '1'='1")


def test_a_backslash_escapes_a_comma_inside_a_value() -> None:
    assert core.split_pairs(r"iris.data_path=a\,b.csv, iris.max_depth=3") == [
        "iris.data_path=a,b.csv",
        "iris.max_depth=3",
    ]
    assert core.split_pairs(r"iris.data_path=c:\\x,iris.C=1") == [
        r"iris.data_path=c:\x",
        "iris.C=1",
    ]
    assert core.split_pairs(r"iris.data_path=a\b") == [r"iris.data_path=a\b"]
    parsed = core.parse_overrides(r"iris.data_path=my\,data.csv", ["iris"], {"iris": declared()})
    assert parsed == {"iris": {"data_path": "my,data.csv"}}
