"""A serving deployment that follows ``models:/<name>@champion`` (``python -m deploy.serve``).

- ``__main__``: the command; starts the proxy, the control server and the controller.
- ``controller``: the decisions: poll and webhook, rollout (switch or canary), bake,
  rollback, supervision.
- ``proxy``: HAProxy's configuration, process and runtime API.
- ``versions``: a version's ``mlflow models serve`` process, its parity and latency checks.
- ``traffic``: each version's requests, 5xx rate and p99, from the proxy's log.
- ``control_api``: ``/status`` and the webhook receiver.
- ``webhook``: MLflow's webhook signature, verified.
- ``records``: each rollout as a ``<project> · deploy`` run, and the version's status tag.
- ``load``: a bounded load client, for the tests, the benchmarks and a user watching a
  rollout.
"""
