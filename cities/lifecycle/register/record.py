# Generated from lifecycle/register/record.py by python -m lifecycle.sync; edit the source.
"""The register step's MLflow run, the same in every project: the gate's decision as
``lifecycle.gate.*`` tags, the model's per-row evidence, the registration and the
champion contest by the paired test (``lifecycle.register.contest``), the decision as
``lifecycle.promotion.*`` tags, and the contract's register tags, all on one run.

A project decides its gate (pure, in its ``core``) and measures its value; this module
records the outcome. Every registry read that could fail happens before anything is
registered.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol, TypeVar

from lifecycle import contract
from lifecycle.register import contest, evidence, golden
from lifecycle.register.registry import MEASURED_ON_TAG
from lifecycle.step.records import log_new_params
from lifecycle.step.runs import step_run

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from lifecycle.models import ModelRef
    from lifecycle.register.rule import ChampionRule, Measurement


class Decision(Protocol):
    """A project's gate decision."""

    @property
    def metric(self) -> str: ...

    @property
    def value(self) -> float: ...

    @property
    def threshold(self) -> float: ...

    @property
    def passed(self) -> bool: ...

    def text(self) -> str: ...

    def summary(self) -> str: ...


D = TypeVar("D", bound=Decision)


def gate_tags(
    decision: Decision, measurement: Measurement, extra: dict[str, float] | None = None
) -> dict[str, str]:
    """The ``lifecycle.gate.*`` tags that record the gate on a run and a model version;
    ``extra`` adds a project's further gate values (``lifecycle.gate.<name>``)."""
    return {
        contract.gate("decision"): "passed" if decision.passed else "failed",
        contract.gate("metric"): decision.metric,
        contract.gate("value"): repr(decision.value),
        contract.gate("threshold"): repr(decision.threshold),
        **{contract.gate(name): repr(value) for name, value in (extra or {}).items()},
        MEASURED_ON_TAG: measurement.measured_on,
        contract.gate("summary"): decision.summary(),
    }


def record_register(
    *,
    project: str,
    ref: ModelRef,
    model_name: str,
    params: dict[str, object],
    decision: D,
    measurement: Measurement,
    rule: ChampionRule,
    evidence_rows: pd.DataFrame,
    compute_evidence: Callable[[str], pd.DataFrame],
    extra_gate_values: dict[str, float] | None = None,
    metrics: dict[str, float] | None = None,
    compare_shared: Callable[[str, str], pd.DataFrame] | None = None,
) -> tuple[str, D, contest.Registration]:
    """Run the register step: one MLflow run holding ``params``, the gate's tags, the
    model's per-row evidence (``evidence/rows.csv``), the registration (when the gate
    passed), the champion contest by ``rule`` and, when the paired test ran, the rows it
    paired (``promotion/paired_rows.csv``), plus the finite ``metrics``; a version
    registered also gets its golden set (``golden/requests.json``, its URI in the
    version's ``lifecycle.golden`` tag).
    ``compute_evidence`` gives the evidence of a champion registered before evidence was
    recorded with it; ``compare_shared`` pairs the model with a champion measured on
    other data, on shared rows neither trained on (``lifecycle.register.shared``).
    Returns the run's id, the decision and what the registry did."""
    import mlflow

    client = mlflow.MlflowClient()
    with step_run(project, "register") as run:
        run_id = run.info.run_id
        log_new_params(
            run_id,
            {
                "model_uri": ref.uri,
                "model_name": model_name,
                "promotion_alpha": rule.alpha,
                **params,
            },
        )
        mlflow.log_text(evidence.to_csv(evidence_rows), evidence.ARTIFACT)
        tags = gate_tags(decision, measurement, extra_gate_values)
        if decision.passed:
            tags[contract.GOLDEN] = record_golden_set(run_id, ref.uri)
        registration = contest.register_and_promote(
            client,
            project=project,
            model_name=model_name,
            model_uri=ref.uri,
            measurement=measurement,
            rule=rule,
            evidence_rows=evidence_rows,
            evidence_uri=f"runs:/{run_id}/{evidence.ARTIFACT}",
            compute_evidence=compute_evidence,
            passed=decision.passed,
            gate_text=decision.text(),
            gate_tags=tags,
            compare_shared=compare_shared,
        )
        if registration.paired is not None:
            mlflow.log_text(registration.paired.to_csv(index=False), evidence.PAIRED_ARTIFACT)
        tags.update(registration.tags(decision.text()))
        if registration.version:
            tags[contract.REGISTERED_VERSION] = registration.version
        tags.update(
            {
                contract.TRAINING_RUN_ID: ref.training_run_id,
                contract.MODEL_URI: ref.uri,
                contract.REGISTERED_MODEL: model_name,
                contract.CHAMPION_VERSION: registration.champion_after or "none",
            }
        )
        mlflow.set_tags(tags)
        finite = {key: value for key, value in (metrics or {}).items() if math.isfinite(value)}
        if registration.test is not None:
            finite["promotion_p_value"] = registration.test.p_value
        if registration.paired is not None:
            finite["promotion_compared_rows"] = float(len(registration.paired))
        if finite:
            mlflow.log_metrics(finite)
    return run_id, decision, registration


def record_golden_set(run_id: str, model_uri: str) -> str:
    """Log the golden set of ``model_uri`` on run ``run_id``; return its artifact URI."""
    import json

    import mlflow

    from lifecycle.step.command import StepError

    try:
        document = golden.build(model_uri)
    except golden.GoldenSetError as error:
        raise StepError(f"no golden set for the deployment: {error}") from None
    mlflow.log_text(json.dumps(document, allow_nan=True), golden.ARTIFACT)
    return f"runs:/{run_id}/{golden.ARTIFACT}"
