"""The engines a step can run on, named once for ``score`` and ``tune`` alike, and the
two parameters that choose one (``engine``, ``spark_master``).

``local`` runs in the step's own process (pandas for ``score``, scikit-learn or Optuna in
this process for ``tune``); ``spark`` runs on a Spark master. ``pandas``, the name
``score`` used first, is still accepted and means ``local``. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.params import Declared, param

LOCAL = "local"
SPARK = "spark"
ENGINES: tuple[str, ...] = (LOCAL, SPARK)
ALIASES: dict[str, str] = {"pandas": LOCAL}
# local, local[*], local[N], spark://host:port[,host:port], yarn, k8s://...
SPARK_MASTER = r"local(\[(\*|[1-9][0-9]*)\])?|spark://\S+|yarn|k8s://\S+"


def canonical(engine: str) -> str:
    """The engine ``engine`` names (``pandas`` is ``local``)."""
    return ALIASES.get(engine, engine)


@dataclass(frozen=True)
class EngineParams(Declared):
    """Where a step runs: in its own process, or on a Spark master (Java 17+)."""

    engine: str = param(
        LOCAL,
        help="where the step runs: local (this process) or spark (on spark_master; Java 17+)",
        choices=(*ENGINES, *ALIASES),
    )
    spark_master: str = param(
        "local[*]",
        help="the Spark master, for engine=spark",
        pattern=SPARK_MASTER,
        allowed="a Spark master URL: local[*], local[N], spark://host:port, yarn or k8s://…",
    )

    @property
    def on_spark(self) -> bool:
        return canonical(self.engine) == SPARK
