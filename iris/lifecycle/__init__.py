# Generated from lifecycle/__init__.py by python -m lifecycle.sync; edit the source.
"""The step kit every project of the collection shares: one source, copied into each
project folder by ``python -m lifecycle.sync`` so that a folder stays self-contained.

Each floor imports only from the floors below it (``tests/unit/test_import_cycles.py``):

- The ground floor, pure declarations and facts:
  ``contract`` (tag and run names), ``errors`` (bad parameters, bad data), ``params``
  (parameters declared once), ``engines`` (local or Spark), ``models`` (model URIs,
  resolved once to a fixed version, and the project a model belongs to),
  ``significance`` (paired and two-sample tests), ``stop`` (a stop asked for, and the
  safe points that act on it), ``processes`` (a process read from ``/proc``).
- ``io``: the data a step reads and writes: ``locations`` (paths and ``s3://`` URIs),
  ``tables`` (inputs read as Arrow, parts written), ``claims``, ``outputs`` and
  ``manifests`` (an output folder claimed, taken over, completed and read back),
  ``data`` and ``datasets`` (a project's data file, and pinned external files).
- ``spark``: the Spark session (``session``), a data source over ``io.tables``
  (``source``), and inputs and outputs moved in and out of Spark (``staging``).
- ``step``: running any step: ``command`` (click options from the declarations, the
  console entry and its exit codes), ``checks`` (the checkpoint before any work),
  ``runs`` (the experiment and the run's name), ``store`` (a new sqlite store, once),
  ``failures`` (the reason on a FAILED run), ``signals`` (where a stop comes from),
  ``console`` (the terminal and the kept log), ``progress``, ``records`` (what a run
  records besides metrics) and ``results`` (what train and evaluate return).
- The steps every project runs the same way, each a family of ``params`` (its
  declaration), ``step`` (the step as a function) and ``command`` (its click command):
  ``register`` (with ``rule``, the champion rule; ``evidence``, per-row losses;
  ``shared``, two models paired on rows neither trained on; ``book``, evidence read back
  and checked; ``registry``, fail-closed reads and writes; ``contest``, the champion
  settled under concurrency; ``record``, the register run's tags; ``golden``, the
  version's golden set), ``score`` (with ``rows``, the row
  checks serving shares; ``assembly``; ``outcome``; ``local_engine`` and
  ``spark_engine``) and ``monitor`` (with ``drift`` and ``verdicts``).
- ``serve``: ``request_guard``, what MLflow's scoring server lacks.

Tooling, not copied into the projects: ``sync`` (this copy, and the files generated from
the declarations) and ``fetch`` (the pinned datasets, ahead of time).
"""

# The floors above, lowest first, as ``tests/unit/test_import_cycles.py`` checks them: a
# module imports from its own family or from a lower floor, never from a family beside it.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("contract", "engines", "errors", "models", "params", "processes", "significance", "stop"),
    ("io",),
    ("spark",),
    ("step",),
    ("monitor", "register", "score", "serve"),
    ("sync",),
    ("fetch",),
)
