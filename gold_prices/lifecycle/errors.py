# Generated from lifecycle/errors.py by python -m lifecycle.sync; edit the source.
"""The two kinds of bad input a step refuses before any work: a parameter outside its
type or range, and a data set that cannot be used. Pure: no I/O, no MLflow."""

from __future__ import annotations


class ParameterError(ValueError):
    """A parameter value outside its type or range; names the parameter and what is allowed."""

    def __init__(
        self, name: str, value: object, allowed: str, options: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        # The parameters a user changes to fix it, when ``name`` is not one by itself.
        self.options = options or (name,)
        super().__init__(f"{name}={value!r} is not allowed: {allowed}")


class DataError(ValueError):
    """A data set that cannot be used; the message names the column and rows at fault."""
