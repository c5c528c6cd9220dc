"""The ``score`` entry point's parameters, declared once, and the check that its output
lies apart from its input (however either is spelled) before any work. Pure but for
resolving the two locations."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.engines import EngineParams
from lifecycle.errors import DataError, ParameterError
from lifecycle.params import LOCATION, VERSION_URIS, EntryPoint, param

BAD_ROW_POLICIES = ("fail", "quarantine")
WRITE_MODES = ("error", "overwrite")
REJECTED_SUFFIX = "-rejected"


@dataclass(frozen=True, kw_only=True)
class ScoreParams(EngineParams):
    """The ``score`` entry point's parameters; the model URI's default is the project's
    champion (``models:/<project>@champion``)."""

    input: str = param(help="the table to score", nonempty=True, allowed=LOCATION)
    output: str = param(
        help="the Parquet directory to write",
        nonempty=True,
        allowed="a Parquet directory: a path or s3://bucket/prefix, apart from the input "
        "(never it, in it, or around it)",
    )
    model_uri: str = param(
        help="the model to score with; an alias is resolved once, before any row is read",
        pattern=r"(models|runs):/.+",
        allowed=VERSION_URIS,
    )
    on_bad_rows: str = param(
        "fail",
        help="what bad rows do: fail (nothing is written) or quarantine (they go to "
        "<output>-rejected)",
        choices=BAD_ROW_POLICIES,
    )
    mode: str = param(
        "error",
        help="what an existing output does: error (stops the job) or overwrite (replaced, "
        "if this collection wrote it)",
        choices=WRITE_MODES,
    )

    def check(self) -> None:
        _check_locations(self.input, self.output)


def score_entry_point(project: str) -> EntryPoint:
    """The ``score`` entry point of ``project``."""
    return EntryPoint(
        command="score",
        help="Score a table with one fixed model version and write Parquet with the metadata.",
        declared=(ScoreParams,),
        defaults=(("model_uri", f"models:/{project}@champion"),),
    )


def _check_locations(input_: str, output: str) -> None:
    """Refuse, as a parameter, an output (or its ``-rejected`` sibling) that is the input,
    lies inside it or contains it, however either is spelled."""
    from lifecycle.io.locations import check_apart, locate

    try:
        source = locate(input_)
        target = locate(output)
        check_apart(source, (target, target.sibling(REJECTED_SUFFIX)))
    except DataError as error:
        raise ParameterError("output", output, str(error), ("output", "input")) from error
