"""The function and estimators of an unpickled pipeline, left in their pickle until needed.

A pipeline that runs fully native is called with its data arguments only: its estimators'
parameters are compiled in. Unpickling one (``persist.unpickle``) therefore leaves its
function and bound arguments in their pickle (``PickledObjects``), which can take longer to
unpickle than the rest (a vectorizer's vocabulary, a booster), and each bound argument's
value is an ``Unpickled`` marker until they are needed: by a row handed back to the original
function, by ``fn``, by an optimized pipeline's ``bound``, by a call that passes an object
of its own for a bound argument, or by saving or pickling the pipeline once they were
unpickled (``NativeProgram.load_objects``). A call may pass the markers in place of the
bound arguments, before and after. The refit guard (``runtime.refit``) watches the objects
from when they are unpickled: no code can hold them before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Unpickled:
    """A bound argument of an unpickled pipeline whose object is still pickled."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind  # the object's class, ``module.qualname``

    def __repr__(self) -> str:
        return f"<{self.name}: a {self.kind}, still pickled>"


class PickledObjects:
    """The pickle ``raw`` of a pipeline's function and its programs' bound arguments,
    unpickled once, when a program first asks (``load(raw)`` gives ``{"fn": function,
    "programs": {program: {"bound": {argument: value}, ...}}}``, or raises)."""

    def __init__(self, raw: bytes, load: Callable[[bytes], dict[str, Any]]) -> None:
        self.raw = raw
        self._load = load
        self._objects: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the objects were unpickled."""
        return self._objects is not None

    def program(self, name: str) -> tuple[Callable[..., Any], dict[str, object]]:
        """The function, and the bound arguments of program ``name`` by argument name."""
        with self._lock:
            if self._objects is None:
                self._objects = self._load(self.raw)
        return self._objects["fn"], self._objects["programs"][name]["bound"]
