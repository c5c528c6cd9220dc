# Generated from lifecycle/step/results.py by python -m lifecycle.sync; edit the source.
"""What the train and evaluate steps return.

Each project's ``<pkg>/steps.py`` holds its entry points as functions that take
validated parameters and return a result; its click commands only parse options, call
them and print one line. Callers that are not a command line (the benchmarks, a
notebook) call the functions and read the results. The register, score and monitor
steps return results of their own (``lifecycle.register.step``, ``lifecycle.score.step``,
``lifecycle.monitor.step``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainResult:
    """A training run: its id, the URI of the model it logged, its headline metrics."""

    run_id: str
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluateResult:
    """An evaluation run of a model, and the training run that model came from."""

    run_id: str
    training_run_id: str
    metrics: dict[str, float] = field(default_factory=dict)
