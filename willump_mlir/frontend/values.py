"""Traced values: a concrete example value plus, for run-time data, its SSA value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.ir import SSAValue


@dataclass
class Val:
    """A value during tracing.

    ``value`` is the concrete value on the example (shadow execution). ``ssa`` is set when the
    value is run-time data (an IR value); ``items`` when it is a list/tuple holding some.
    Otherwise the value is static: known at compile time and bound into the compiled code.
    """

    value: object
    ssa: SSAValue | None = None
    items: list[Val] | None = None
    #: an assembled DataFrame (``frontend.frames``): the names of its column ``items``
    columns: list[str] | None = None
    #: a pandas categorical column (``frontend.categories``): how it is made of a native one
    category: Category | None = None
    #: ``frame.index`` (``frontend.indexes``): the frame (or Series) whose index ``value`` is
    index_of: Val | None = None

    @property
    def is_static(self) -> bool:
        """True if the value does not depend on the data arguments."""
        return self.ssa is None and self.items is None and self.category is None \
            and self.index_of is None  # fmt: skip


@dataclass
class Category:
    """A pandas categorical column made of a native column of str or numbers: ``source``,
    with ``categories`` (None: the values it holds), built in Python by ``build`` from the
    source's value (``source`` is the code that builds it, for reports)."""

    source: Val
    categories: list | None
    build: Callable[[object], object]
    text: str
