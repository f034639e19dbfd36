"""The frontend's public result types and errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, Operation


class FrontendError(ValueError):
    """The function or its example cannot be traced; the message names the culprit."""


class Unsupported(Exception):
    """A construct the compiler cannot reproduce exactly; it becomes a Python op."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ArgumentSpec:
    """One parameter of the traced function."""

    name: str
    kind: str  # "frame" | "array" | "strings" (a list/array/Series of str) | "bound"
    type: Attribute | None
    value: object
    columns: list[tuple[str, str]] | None = None


@dataclass
class PythonCall:
    """How to run one ``pipeline.python_call``: ``function(*operand values)`` returns the
    tuple of its results (a ``frontend.fallback.PythonFunction``)."""

    name: str
    function: Callable
    reason: str
    source: str


@dataclass
class FrontendResult:
    """The traced module plus everything the compiler needs besides the IR text."""

    module: ModuleOp
    blobs: dict[str, np.ndarray]
    arguments: list[ArgumentSpec]
    python_calls: dict[str, PythonCall]
    returns_sparse: bool
    notes: list[str] = field(default_factory=list)
    # each traced model op -> (the estimator it calls, a scaler folded into it or None)
    models: dict[Operation, tuple[object, object | None]] = field(default_factory=dict)
