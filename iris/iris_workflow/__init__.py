"""The iris MLflow Project: a classifier trained, evaluated, gated and registered.

``core`` holds the pure modelling functions, ``data`` reads the table, ``tracking``
talks to MLflow and ``cli`` exposes the ``train``, ``evaluate`` and ``register`` entry points.
"""
