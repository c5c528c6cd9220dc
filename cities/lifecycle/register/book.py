# Generated from lifecycle/register/book.py by python -m lifecycle.sync; edit the source.
"""The per-row evidence of a model's versions as a register step reads it: once per
step, checked against the digest and the value recorded with each version, computed
from the model when a version predates either; and the pairs of models measured on
shared unseen rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lifecycle import contract
from lifecycle.models import is_missing
from lifecycle.register import evidence
from lifecycle.register.registry import EVIDENCE_DIGEST_TAG, EVIDENCE_TAG, unreadable
from lifecycle.register.rule import format_value

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from mlflow.entities.model_registry import ModelVersion

    from lifecycle.register.rule import ChampionRule

    # Computes a model's per-row evidence from its training run (for a version
    # registered before evidence was recorded with it).
    EvidenceOf = Callable[[str], pd.DataFrame]
    # Pairs two models (challenger URI, champion URI) on shared rows neither trained on.
    SharedOf = Callable[[str, str], pd.DataFrame]


class EvidenceBook:
    """The per-row evidence of a model's versions, read once per register step: from the
    artifact a version's ``lifecycle.promotion.evidence`` tag names, checked against the
    digest recorded with the version and against the value it recorded; or, for a
    version registered before evidence (or its digest) was recorded, computed from its
    training run."""

    def __init__(
        self,
        model_name: str,
        compute: EvidenceOf,
        shared: SharedOf | None = None,
        rule: ChampionRule | None = None,
    ) -> None:
        self.model_name = model_name
        self.compute = compute
        self.shared = shared
        self.rule = rule
        self.known: dict[str, pd.DataFrame] = {}
        self.pairs: dict[tuple[str, str], pd.DataFrame] = {}

    def on_shared_rows(self, challenger_uri: str, champion_uri: str) -> pd.DataFrame:
        """The two models paired on shared unseen rows, computed once per pair."""
        if self.shared is None:
            raise evidence.EvidenceError("this project cannot measure two models on shared rows")
        key = (challenger_uri, champion_uri)
        if key not in self.pairs:
            self.pairs[key] = self.shared(challenger_uri, champion_uri)
        return self.pairs[key]

    def add(self, version: str, frame: pd.DataFrame) -> None:
        self.known[version] = frame

    def of(self, version: ModelVersion) -> pd.DataFrame:
        """The version's evidence; ``EvidenceError`` when it is not there, was changed
        since it was registered, or disagrees with the version's value;
        ``RegistryError`` when it could not be read."""
        import mlflow
        from mlflow.exceptions import MlflowException

        number = str(version.version)
        if number in self.known:
            return self.known[number]
        tags = version.tags or {}
        uri, digest = tags.get(EVIDENCE_TAG), tags.get(EVIDENCE_DIGEST_TAG)
        try:
            if uri and digest:
                text = str(mlflow.artifacts.load_text(uri))
                if evidence.digest(text) != digest:
                    raise evidence.EvidenceError(
                        f"version {number}'s evidence ({uri}) does not match the digest "
                        f"recorded when it was registered: it was changed since"
                    )
                frame = evidence.from_csv(text)
            else:
                frame = evidence.check(self.compute(f"models:/{self.model_name}/{number}"))
        except MlflowException as error:
            if is_missing(error):
                raise evidence.EvidenceError(
                    f"version {number}'s evidence is not there ({uri or 'none recorded'})"
                ) from error
            raise unreadable(f"version {number}'s per-row evidence", error) from error
        except (OSError, ValueError) as error:
            if isinstance(error, evidence.EvidenceError):
                raise
            raise evidence.EvidenceError(f"version {number}'s evidence: {error}") from error
        self._agrees(number, frame, tags.get(contract.promotion("value")))
        self.known[number] = frame
        return frame

    def _agrees(self, number: str, frame: pd.DataFrame, recorded: str | None) -> None:
        """Refuse evidence whose value is not the one the version recorded."""
        rule = self.rule
        if rule is None or rule.value_of is None or recorded is None:
            return
        try:
            expected = float(recorded)
        except ValueError:
            return
        found = rule.value_of(frame)
        if not math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-12) and not (
            math.isnan(found) and math.isnan(expected)
        ):
            raise evidence.EvidenceError(
                f"version {number}'s evidence gives {rule.metric} {format_value(found)}, but "
                f"the version recorded {format_value(expected)}"
            )
