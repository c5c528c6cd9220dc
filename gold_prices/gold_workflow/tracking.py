"""Everything the gold_prices entry points record in, or read from, MLflow.

Train logs the recipe, the backtest metrics beside the naive forecast's, the backtest
forecasts table, two plots, the dataset and the served pyfunc model; evaluate re-scores
the backtest with MLflow's regressor evaluator and checks that the packaged model
answers; register applies the MASE gate and moves the aliases. MLflow is imported here
(and in ``serving``) only, so a bad parameter fails before paying for it.
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gold_workflow import core
from lifecycle import contract, models
from lifecycle.models import ModelRef, ModelUriError
from lifecycle.monitor import drift
from lifecycle.monitor.step import log_profile
from lifecycle.register import contest, evidence, registry, shared
from lifecycle.register.record import record_register
from lifecycle.register.rule import Measurement, format_value
from lifecycle.significance import format_p
from lifecycle.step import records
from lifecycle.step.records import log_figure, log_new_params
from lifecycle.step.runs import step_run

logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
FORECASTS_ARTIFACT = "backtest/forecasts.csv"
PROJECT = "gold_prices"
CHAMPION = registry.CHAMPION
CHALLENGER = registry.CHALLENGER
GATE_METRIC = "backtest_mase"
# The metrics the orchestrator's summary shows for a gold_prices training run.
KEY_METRICS = ("backtest_mase", "backtest_mae", "naive_mae", "backtest_directional_accuracy")
# What the served model needs, pinned to the versions it was trained with.
INFERENCE_PACKAGES = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")
# The served model imports the step kit too (format_value, errors): models.code_paths.
PACKAGE_DIR = Path(__file__).resolve().parent


def resolve_model(model_uri: str) -> ModelRef:
    """Check that ``model_uri`` names a logged model and find its training run."""
    return models.resolve_model(model_uri, needs="its backtest")


@dataclass(frozen=True)
class TrainingRecord:
    """What one gold_prices training run produced, ready to be logged: the recipe, the
    price file it read, the walk-forward backtest and its metrics."""

    params: core.TrainParams
    data_path: Path
    data_sha256: str
    pinned: bool
    prices: pd.DataFrame
    dropped_partial_bar: str | None
    backtest: core.Backtest
    metrics: dict[str, float]
    n_final_rows: int
    profile: drift.Profile
    cutoff_date: str = ""


def log_training(record: TrainingRecord, final_model: object) -> str:
    """Record one training run and return its run id."""

    with step_run(PROJECT, "train") as run:
        record_model(run.info.run_id, record, final_model)
    return run.info.run_id


def record_model(
    run_id: str,
    record: TrainingRecord,
    final_model: object,
    tags: dict[str, str] | None = None,
) -> None:
    """On the active run: the recipe, the data, the backtest with its metrics, forecasts
    and plots, and the served model; a tune run logs its best configuration this way."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    from gold_workflow.plots import forecast_figure, residual_figure

    params = record.params
    prices = record.prices
    log_new_params(
        run_id,
        {
            **params.as_dict(),
            "data_path": str(record.data_path),
            "cutoff_date": record.cutoff_date,
        },
    )
    # MLflow would store an infinite metric as the largest float (a 309-digit
    # number); a MASE without a finite value is a tag that says so instead.
    finite = {key: value for key, value in record.metrics.items() if math.isfinite(value)}
    mlflow.log_metrics(
        {
            **finite,
            "backtest_rows": float(len(record.backtest.forecasts)),
            "backtest_refits": float(record.backtest.refits),
            "final_training_rows": float(record.n_final_rows),
        }
    )
    mase = record.metrics["backtest_mase"]
    verdict = (
        f"backtest MASE {format_value(mase)}: the model {core.verdict_against_naive(mase)} "
        f"(Diebold-Mariano one-sided p={format_p(record.metrics['dm_vs_naive_p_value'])} "
        f"for better than naive)"
    )
    mlflow.set_tags(
        {
            "data_sha256": record.data_sha256,
            "data_pinned": str(record.pinned).lower(),
            "data_first_date": prices[core.DATE].iloc[0].strftime("%Y-%m-%d"),
            "data_last_date": prices[core.DATE].iloc[-1].strftime("%Y-%m-%d"),
            "data_dropped_partial_bar": record.dropped_partial_bar or "none",
            "backtest_start": record.backtest.forecasts[core.DATE].iloc[0].strftime("%Y-%m-%d"),
            "beats_naive": str(mase < 1.0).lower(),
            "verdict": verdict,
            contract.KEY_METRICS: ",".join(KEY_METRICS),
            **(tags or {}),
            **{
                f"{key}_value": format_value(value)
                for key, value in record.metrics.items()
                if not math.isfinite(value)
            },
        }
    )
    with warnings.catch_warnings():
        # MLflow finds two equivalent sources for a local file and warns that it
        # picked one of them; either records the same path.
        warnings.filterwarnings("ignore", message="The specified dataset source")
        dataset = from_pandas(prices, source=str(record.data_path), name="gold_prices")
    mlflow.log_input(dataset, context="training")
    forecasts = record.backtest.forecasts.copy()
    for column in (core.DATE, "target_date"):
        forecasts[column] = forecasts[column].dt.strftime("%Y-%m-%d")
    mlflow.log_text(forecasts.to_csv(index=False), FORECASTS_ARTIFACT)
    trained = shared.trained_rows_text(core.bar_digests(prices))
    mlflow.log_text(trained, shared.TRAINED_ROWS_ARTIFACT)
    log_profile(record.profile)
    title = f"{params.model}, horizon {params.horizon}: backtest MASE {format_value(mase)}"
    log_figure(forecast_figure(record.backtest.forecasts, title), "plots/forecast_vs_actual.png")
    log_figure(residual_figure(record.backtest.forecasts, title), "plots/residuals.png")
    log_forecaster(final_model, params.horizon, prices)


def log_forecaster(final_model: object, horizon: int, prices: pd.DataFrame) -> None:
    """Log the served model from code: the pipeline as a skops file, trusting exactly the
    types it holds, the horizon as model config, and this package as its code."""
    import mlflow
    import skops.io

    from gold_workflow import serving

    with tempfile.TemporaryDirectory() as scratch:
        pipeline_file = Path(scratch) / "pipeline.skops"
        skops.io.dump(final_model, pipeline_file)
        trusted = skops.io.get_untrusted_types(file=pipeline_file)
        mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(serving.MODEL_CODE),
            artifacts={serving.PIPELINE_ARTIFACT: str(pipeline_file)},
            model_config={"horizon": horizon, "trusted_types": trusted},
            signature=serving.signature(),
            input_example=serving.input_example(prices),
            pip_requirements=models.pip_requirements(INFERENCE_PACKAGES),
            code_paths=models.code_paths(PACKAGE_DIR),
        )


def load_forecasts(ref: ModelRef) -> pd.DataFrame:
    """The walk-forward forecasts the model's training run logged."""
    text = models.training_artifact(ref, FORECASTS_ARTIFACT, "backtest", PROJECT)
    return pd.read_csv(io.StringIO(text))


def check_served_model(ref: ModelRef) -> pd.DataFrame:
    """Load the model as ``mlflow models serve`` does and forecast from its input example."""
    import mlflow
    from mlflow.models import Model

    model = mlflow.pyfunc.load_model(ref.uri)
    example = Model.load(ref.uri).load_input_example(mlflow.artifacts.download_artifacts(ref.uri))
    if example is None:
        raise ModelUriError(f"model {ref.uri!r} has no input example to check it with")
    answer = model.predict(example)
    forecast = float(answer["forecast_close"].iloc[0])
    if len(answer) != 1 or not math.isfinite(forecast) or forecast <= 0:
        raise ModelUriError(f"model {ref.uri!r} answered its input example with {answer!r}")
    return answer


def log_evaluation(ref: ModelRef, forecasts: pd.DataFrame) -> tuple[str, dict[str, float]]:
    """Score the backtest with MLflow's regressor evaluator and our own metrics, and check
    that the packaged model forecasts from its input example."""
    import mlflow

    rows = core.evidence_rows(forecasts)
    with step_run(PROJECT, "evaluate") as run:
        records.tag_evaluation(PROJECT, ref, run.info.run_id)
        mlflow.log_text(evidence.to_csv(rows), evidence.ARTIFACT)
        result = mlflow.models.evaluate(
            data=records.named_frame(
                forecasts[["forecast_close", "actual_close"]],
                f"{PROJECT}-backtest",
                targets="actual_close",
                predictions="forecast_close",
            ),
            model_type="regressor",
            evaluators=["default"],
            evaluator_config={"default": {"log_explainer": False}},
        )
        ours = {
            **core.backtest_metrics(forecasts),
            **core.naive_test_metrics(forecasts, training_horizon(ref)),
        }
        mlflow.log_metrics({key: value for key, value in ours.items() if math.isfinite(value)})
        answer = check_served_model(ref)
        mlflow.log_metric("served_example_forecast_close", float(answer["forecast_close"].iloc[0]))
        mlflow.log_text(answer.to_csv(index=False), "served_example_forecast.csv")
    metrics = {**dict(result.metrics), **ours}
    return run.info.run_id, metrics


def training_horizon(ref: ModelRef) -> int:
    """The forecast horizon the model's training run was made with."""
    import mlflow

    params = mlflow.MlflowClient().get_run(ref.training_run_id).data.params
    try:
        return int(params["horizon"])
    except (KeyError, ValueError) as error:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} does not record its horizon"
        ) from error


def evidence_of(ref: ModelRef) -> pd.DataFrame:
    """The model's per-day evidence: its walk-forward backtest's daily absolute errors
    and the naive forecast's, from the training run (no refit)."""
    return core.evidence_rows(load_forecasts(ref))


def compute_evidence(model_uri: str) -> pd.DataFrame:
    """``evidence_of`` for a model URI (a champion registered before evidence was kept)."""
    return evidence_of(resolve_model(model_uri))


def gate_measurement(ref: ModelRef) -> Measurement:
    """The backtest MASE recorded by the model's training run, and the backtest days it
    was measured on. Refuses a model another project trained."""
    import mlflow

    client = mlflow.MlflowClient()
    registry.ensure_trained_by(client, ref.training_run_id, PROJECT, ref.uri)
    data = client.get_run(ref.training_run_id).data
    if GATE_METRIC in data.metrics:
        value = float(data.metrics[GATE_METRIC])
    elif f"{GATE_METRIC}_value" in data.tags:  # recorded as infinite or undefined
        value = float("nan") if "undefined" in data.tags[f"{GATE_METRIC}_value"] else math.inf
    else:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} has no metric {GATE_METRIC!r}; "
            f"register models logged by the gold_prices train step"
        )
    try:
        days = core.measured_on(
            data.tags["data_sha256"],
            int(data.params["horizon"]),
            data.tags["backtest_start"],
            int(data.metrics["backtest_rows"]),
        )
    except (KeyError, ValueError) as error:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} does not record its backtest "
            f"days (data_sha256, horizon, backtest_start, backtest_rows)"
        ) from error
    return Measurement(value, days)


def register_if_good(
    ref: ModelRef, model_name: str, gate: core.GateParams, promotion_alpha: float
) -> tuple[str, core.GateDecision, contest.Registration]:
    """Gate the model on its backtest MASE and its Diebold-Mariano test against the
    naive forecast, register a version when it passes, and settle the aliases by the DM
    test against the champion at ``promotion_alpha``. Every registry read that could
    fail happens before anything is registered. The decision is recorded as ``gate.*``
    and ``promotion.*`` tags on the run and the version.
    """
    measurement = gate_measurement(ref)
    horizon = training_horizon(ref)
    rows = evidence_of(ref)
    naive = core.versus_naive(rows, horizon)
    decision = core.decide(gate, measurement.value, naive)
    return record_register(
        project=PROJECT,
        ref=ref,
        model_name=model_name,
        params={"max_mase": gate.max_mase, "gate_naive_alpha": gate.naive_alpha},
        decision=decision,
        measurement=measurement,
        rule=core.promotion_rule(promotion_alpha, horizon),
        evidence_rows=rows,
        compute_evidence=compute_evidence,
        compare_shared=compare_on_shared_rows,
        extra_gate_values={
            "dm_vs_naive_statistic": naive.better.statistic,
            "dm_vs_naive_p_value": naive.better.p_value,
            "dm_worse_than_naive_p_value": naive.worse.p_value,
        },
        metrics={
            "gate_mase": measurement.value,
            "gate_dm_vs_naive_p_value": naive.better.p_value,
        },
    )


def _last_training_day(ref: ModelRef) -> pd.Timestamp:
    import mlflow

    tags = mlflow.MlflowClient().get_run(ref.training_run_id).data.tags
    try:
        return pd.Timestamp(tags["data_last_date"])
    except (KeyError, ValueError) as error:
        raise evidence.EvidenceError(
            f"training run {ref.training_run_id} does not record its last bar (data_last_date)"
        ) from error


def _series_for(ref: ModelRef) -> pd.DataFrame:
    """The whole price table the model's training run read (before any cut-off),
    checked to be the file it recorded."""
    import mlflow

    from gold_workflow.data import read_gold_csv
    from lifecycle.io.datasets import sha256_of

    data = mlflow.MlflowClient().get_run(ref.training_run_id).data
    path = Path(data.params.get("data_path", ""))
    if not path.is_file():
        raise evidence.EvidenceError(f"the challenger's price table {str(path)!r} is not there")
    if sha256_of(path) != data.tags.get("data_sha256"):
        raise evidence.EvidenceError(
            f"the challenger's price table {str(path)!r} changed since it was trained"
        )
    prices, _ = core.drop_partial_last_bar(read_gold_csv(path))
    return prices


def compare_on_shared_rows(challenger_uri: str, champion_uri: str) -> pd.DataFrame:
    """Both forecasters on the out-of-time days: the forecasts made after both models'
    last training bar, from the challenger's price table, each against its realised
    close ``horizon`` bars later, paired day by day (the bars either trained on are
    left out by their digests)."""
    import mlflow

    from gold_workflow.scoring import forecast_every_date

    challenger, champion = resolve_model(challenger_uri), resolve_model(champion_uri)
    horizon, theirs = training_horizon(challenger), training_horizon(champion)
    if horizon != theirs:
        raise evidence.EvidenceError(
            f"the two forecast different horizons ({horizon} and {theirs} trading days)"
        )
    prices = _series_for(challenger)
    after = max(_last_training_day(challenger), _last_training_day(champion))

    def evidence_of_model(ref: ModelRef) -> pd.DataFrame:
        served = mlflow.pyfunc.load_model(ref.uri).unwrap_python_model()
        forecasts = forecast_every_date(served.model, horizon, prices)
        return core.out_of_time_evidence(prices, forecasts, horizon, after)

    return shared.pair_on_shared(
        evidence_of_model(challenger),
        evidence_of_model(champion),
        shared.trained_rows(challenger, "the challenger"),
        shared.trained_rows(champion, f"the champion ({champion_uri})"),
    )
