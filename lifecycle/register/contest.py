"""The champion contest: a register step registers its version and settles the
``champion`` alias, converging with any register step running at once on one model.

Each step registers its version marked ``lifecycle.contest=open``, then replays every
version registered since it started (and every open one) against the champion by the
champion rule (``lifecycle.register.rule``) on the versions' per-row evidence, moves the
alias to the winner, and checks again until the registry agrees, so the better model
ends as champion whichever step writes last. Every read that could fail happens before
the version is created; a stop is acted on only between registry writes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from lifecycle import contract
from lifecycle.register import evidence
from lifecycle.register.book import EvidenceBook
from lifecycle.register.registry import (
    ALPHA_TAG,
    CHALLENGER,
    CHAMPION,
    CONTEST_TAG,
    EVIDENCE_DIGEST_TAG,
    EVIDENCE_TAG,
    MEASURED_ON_TAG,
    PROJECT_TAG,
    SETTLE_SECONDS,
    RegistryError,
    champion_version,
    claim_name,
    ensure_own_kind,
    list_versions,
    measurement_of,
    set_alias,
)
from lifecycle.register.rule import (
    FIRST,
    KEPT,
    PROMOTED,
    ChampionRule,
    ChampionState,
    Measurement,
    Verdict,
    contest_winner,
    format_value,
    verdict,
)
from lifecycle.step.console import printed_to_log

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from lifecycle.significance import PairedTest

    # Computes a model's per-row evidence from its training run (for a version
    # registered before evidence was recorded with it).
    EvidenceOf = Callable[[str], pd.DataFrame]
    # Pairs two models (challenger URI, champion URI) on shared rows neither trained on.
    SharedOf = Callable[[str, str], pd.DataFrame]

logger = logging.getLogger(__name__)

# An open contest older than this is a register step that died; it no longer competes.
CONTEST_TTL_SECONDS = 15 * 60
CONTEST_ROUNDS = 5


@dataclass(frozen=True)
class Registration:
    """What a register step did: the version it created (None when the gate failed),
    the champion before and after, the rule's verdict and the sentence for the gate
    line, the promotion decision (``first``, ``promoted``, ``kept``) and the paired test
    with the rows it paired, when one ran."""

    version: str | None
    champion_before: str | None
    champion_after: str | None
    clause: str
    champion_before_value: float | None = None
    rule: ChampionRule | None = None
    test: PairedTest | None = None
    paired: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    compared_on: str = ""

    @property
    def promoted(self) -> bool:
        return self.version is not None and self.champion_after == self.version

    @property
    def decision(self) -> str | None:
        """``first``, ``promoted`` or ``kept``; None when no version was registered."""
        if self.version is None:
            return None
        if not self.promoted:
            return KEPT
        return FIRST if self.champion_before is None else PROMOTED

    def tags(self, gate_text: str) -> dict[str, str]:
        """The decision's tags for the register run and the version: what the champion
        was, whether this version is champion now, the whole gate line, and the
        ``lifecycle.promotion.*`` record of the decision."""
        tags = {
            contract.gate("previous_champion"): self.champion_before or "none",
            contract.gate("previous_champion_value"): (
                "none" if self.champion_before_value is None else repr(self.champion_before_value)
            ),
            contract.gate("promoted"): str(self.promoted).lower(),
            contract.gate("summary"): f"{gate_text}; {self.clause}",
        }
        if self.decision is not None:
            tags[contract.promotion("decision")] = self.decision
            tags[contract.promotion("reason")] = self.clause[:4000]
        if self.rule is not None:
            tags[contract.promotion("test")] = self.rule.label
            tags[ALPHA_TAG] = repr(self.rule.alpha)
            tags[contract.promotion("p_value")] = (
                "none" if self.test is None else repr(self.test.p_value)
            )
            if self.test is not None:
                tags[contract.promotion("statistic")] = repr(self.test.statistic)
        if self.compared_on:
            tags[contract.promotion("compared_on")] = self.compared_on[:4000]
        return tags


def _candidates(
    versions: list[ModelVersion], baseline: int, project: str, now_ms: int
) -> list[str]:
    found = []
    for version in versions:
        tags = version.tags or {}
        if tags.get(PROJECT_TAG) != project or tags.get(contract.gate("decision")) != "passed":
            continue
        created = int(version.creation_timestamp or 0)
        open_contest = (
            tags.get(CONTEST_TAG) == "open" and now_ms - created < CONTEST_TTL_SECONDS * 1000
        )
        if int(version.version) > baseline or open_contest:
            found.append(str(version.version))
    return found


def _beats(
    versions: dict[str, ModelVersion], rule: ChampionRule, book: EvidenceBook
) -> Callable[[str, str], bool]:
    """Whether a candidate version takes the title from the holder by the rule, with the
    candidate's own promotion_alpha; any doubt (a value or evidence that cannot be read)
    keeps the holder."""

    def beats(candidate: str, holder: str) -> bool:
        mine, theirs = versions.get(candidate), versions.get(holder)
        if mine is None or theirs is None:
            return False
        measured, _ = measurement_of(mine, rule.metric)
        known, unknown = measurement_of(theirs, rule.metric)
        if measured is None:
            return False
        try:
            alpha = float((mine.tags or {}).get(ALPHA_TAG, rule.alpha))
        except ValueError:
            return False
        own_rule = replace(rule, alpha=alpha)

        def pair() -> pd.DataFrame:
            try:
                return evidence.paired(book.of(mine), book.of(theirs))
            except RegistryError as error:
                raise evidence.EvidenceError(error.reading) from error

        def shared() -> pd.DataFrame:
            return book.on_shared_rows(
                f"models:/{book.model_name}/{candidate}", f"models:/{book.model_name}/{holder}"
            )

        champion = ChampionState(holder, known, unknown)
        return verdict(measured, champion, own_rule, pair, shared).promote

    return beats


def _settle(
    client: MlflowClient,
    model_name: str,
    baseline: int,
    project: str,
    rule: ChampionRule,
    book: EvidenceBook,
) -> str | None:
    """Move the champion alias to the contest's winner until the registry agrees."""
    winner = None
    for _ in range(CONTEST_ROUNDS):
        current = champion_version(client, model_name)
        holder = None if current is None else str(current.version)
        now_ms = int(time.time() * 1000)
        listed = list_versions(client, model_name)
        versions = {str(version.version): version for version in listed}
        if current is not None:
            versions.setdefault(holder or "", current)
        candidates = _candidates(listed, baseline, project, now_ms)
        winner = contest_winner(holder, candidates, _beats(versions, rule, book))
        if winner is None or holder == winner:
            if winner is None or _stable(client, model_name, winner):
                return winner
            continue
        set_alias(client, model_name, CHAMPION, winner)
        time.sleep(SETTLE_SECONDS)
    return winner


def _stable(client: MlflowClient, model_name: str, winner: str) -> bool:
    time.sleep(SETTLE_SECONDS)
    current = champion_version(client, model_name)
    return current is not None and str(current.version) == winner


def register_and_promote(
    client: MlflowClient,
    *,
    project: str,
    model_name: str,
    model_uri: str,
    measurement: Measurement,
    rule: ChampionRule,
    evidence_rows: pd.DataFrame,
    evidence_uri: str,
    compute_evidence: EvidenceOf,
    passed: bool,
    gate_text: str,
    gate_tags: dict[str, str],
    compare_shared: SharedOf | None = None,
) -> Registration:
    """Register ``model_uri`` when its gate passed, and settle the champion alias.

    The challenger is compared with the champion by ``rule``: its per-row evidence
    (``evidence_rows``, logged at ``evidence_uri``) is paired with the champion's. Every
    read that could fail happens before the version is created, so a lookup error leaves
    the registry untouched.
    """
    import mlflow

    exists = ensure_own_kind(client, model_name, project)
    # A model that does not exist has no versions and no champion. (Asked anyway, a team
    # server with basic auth answers 403 for a model nobody may read yet.)
    baseline = (
        max((int(v.version) for v in list_versions(client, model_name)), default=0) if exists else 0
    )
    champion = champion_version(client, model_name) if exists else None
    state = None
    if champion is not None:
        known, unknown = measurement_of(champion, rule.metric)
        state = ChampionState(str(champion.version), known, unknown)
    before = state.version if state else None
    before_value = state.measurement.value if state and state.measurement else None
    if not passed:
        return Registration(None, before, before, "no model version registered", before_value)
    book = EvidenceBook(model_name, compute_evidence, compare_shared, rule)
    paired_rows: list[pd.DataFrame] = []

    def pair() -> pd.DataFrame:
        assert champion is not None
        rows = evidence.paired(evidence_rows, book.of(champion))
        paired_rows.append(rows)
        return rows

    def shared() -> pd.DataFrame:
        assert champion is not None
        rows = book.on_shared_rows(model_uri, f"models:/{model_name}/{champion.version}")
        paired_rows.append(rows)
        return rows

    rule_verdict = verdict(
        measurement,
        state,
        rule,
        pair if rule.tested else None,
        shared if compare_shared is not None else None,
    )
    tags = {
        **gate_tags,
        **Registration(None, before, None, rule_verdict.clause, before_value).tags(gate_text),
        contract.gate("promoted"): str(rule_verdict.promote).lower(),
        contract.promotion("metric"): rule.metric,
        contract.promotion("value"): repr(measurement.value),
        ALPHA_TAG: repr(rule.alpha),
        EVIDENCE_TAG: evidence_uri,
        EVIDENCE_DIGEST_TAG: evidence.digest(evidence.to_csv(evidence_rows)),
        PROJECT_TAG: project,
        MEASURED_ON_TAG: measurement.measured_on,
        CONTEST_TAG: "open",
    }
    with printed_to_log("registering the model"):
        registered = mlflow.register_model(model_uri, model_name, tags=tags)
    version = str(registered.version)
    book.add(version, evidence_rows)
    try:
        claim_name(client, model_name, project)
        set_alias(client, model_name, CHALLENGER, version)
        after = _settle(client, model_name, baseline, project, rule, book)
    finally:
        client.set_model_version_tag(model_name, version, CONTEST_TAG, "closed")
    clause = rule_verdict.clause
    recorded = rule_verdict
    if after is not None and after not in (version, before):
        # Another register step's version took the title: this version's record is
        # its comparison with that version, not with the champion it first faced.
        recorded, rows = _against_winner(
            client, model_name, after, measurement, rule, book, (model_uri, evidence_rows)
        )
        paired_rows = [] if rows is None else [rows]
        clause = (
            f"not champion: a concurrent register step made version {after} champion; "
            f"against it: {recorded.clause}"
        )
    elif rule_verdict.promote and after != version:
        clause = (
            f"not champion: a concurrent register step made version {after} champion, "
            f"and this version does not beat it"
        )
    elif not rule_verdict.promote and after == version:
        clause = "champion after comparing the versions that concurrent register steps made"
    outcome = Registration(
        version,
        before,
        after,
        clause,
        before_value,
        rule,
        recorded.test,
        paired_rows[-1] if paired_rows else None,
        recorded.compared_on,
    )
    for key, value in outcome.tags(gate_text).items():
        if tags.get(key) != value:
            client.set_model_version_tag(model_name, version, key, value)
    client.update_model_version(
        model_name, version, description=version_description(outcome, gate_text, measurement)
    )
    return outcome


def _against_winner(
    client: MlflowClient,
    model_name: str,
    winner: str,
    measurement: Measurement,
    rule: ChampionRule,
    book: EvidenceBook,
    challenger: tuple[str, pd.DataFrame],
) -> tuple[Verdict, pd.DataFrame | None]:
    """The champion rule's verdict on this model (its URI and evidence) against
    ``winner``, the version that took the title while this step was deciding, and the
    rows it paired."""
    model_uri, own = challenger
    holder = client.get_model_version(model_name, winner)
    known, unknown = measurement_of(holder, rule.metric)
    paired: list[pd.DataFrame] = []

    def pair() -> pd.DataFrame:
        paired.append(evidence.paired(own, book.of(holder)))
        return paired[-1]

    def shared() -> pd.DataFrame:
        paired.append(book.on_shared_rows(model_uri, f"models:/{model_name}/{winner}"))
        return paired[-1]

    state = ChampionState(winner, known, unknown)
    found = verdict(measurement, state, rule, pair if rule.tested else None, shared)
    return found, (paired[-1] if paired else None)


def version_description(outcome: Registration, gate_text: str, measurement: Measurement) -> str:
    """A registered version's description (Markdown, shown on its page in MLflow's UI):
    its gate, how the champion rule decided and on what data it was measured."""
    rule = outcome.rule
    metric = rule.metric if rule else "value"
    if outcome.test is not None and rule is not None:
        test = f" ({rule.test_name}: p={outcome.test.p_value:.4g} at alpha {rule.alpha:g})"
    else:
        test = ""
    if outcome.champion_before is None:
        against = "there was no champion"
    elif outcome.champion_before_value is None:
        against = f"the champion was version {outcome.champion_before}"
    else:
        against = (
            f"the champion was version {outcome.champion_before}, "
            f"{metric}={format_value(outcome.champion_before_value)}"
        )
    return "\n".join(
        [
            f"**Gate:** {gate_text}",
            "",
            f"**Promotion:** {outcome.decision or 'none'}{test}: {outcome.clause} "
            f"(before this step {against}; champion now: version {outcome.champion_after})",
            "",
            f"**Measured on:** {measurement.measured_on}: "
            f"{metric}={format_value(measurement.value)}",
            *(["", f"**Compared on:** {outcome.compared_on}"] if outcome.compared_on else []),
        ]
    )
