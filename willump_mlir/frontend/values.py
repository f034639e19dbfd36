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
    #: ``pd.get_dummies`` or ``fillna(str)`` of native columns (``frontend.string_vocab``), kept
    #: as their source until a native use (a reindex, a comparison) reads them
    pending: Pending | None = None
    #: a datetime Series computed natively (``frontend.dates``): its ticks and unit
    datetime: Datetime | None = None
    #: ``frame.index`` (``frontend.indexes``): the frame (or Series) whose index ``value`` is
    index_of: Val | None = None
    #: an integer column narrower than int64 (``frontend.narrow_ints``): its values as an i64
    #: batch, which only ops numpy computes alike on int64 read; ``ssa`` is the frame's own
    #: column, which Python code gets
    narrow: SSAValue | None = None

    @property
    def is_static(self) -> bool:
        """True if the value does not depend on the data arguments."""
        return (
            self.ssa is None and self.items is None and self.category is None
            and self.pending is None and self.datetime is None and self.index_of is None
        )  # fmt: skip

    @property
    def assembled(self) -> bool:
        """An assembled DataFrame (``frontend.frames``): columns, and no IR value of its own."""
        return self.ssa is None and self.columns is not None


@dataclass
class Category:
    """A pandas categorical column made of a native column of str or numbers: ``source``,
    with ``categories`` (None: the values it holds), built in Python by ``build`` from the
    source's value (``source`` is the code that builds it, for reports)."""

    source: Val
    categories: list | None
    build: Callable[[object], object]
    text: str


@dataclass
class Pending:
    """``kind`` (``"get_dummies"``, ``"fillna"``) of a frame or string column ``source``
    with ``options``, which ``build`` computes in Python (``text`` is its code, ``reason``
    why it runs there when something else reads it)."""

    kind: str
    source: Val
    options: dict[str, object]
    build: Callable[[object], object]
    text: str
    reason: str


@dataclass
class Datetime:
    """A datetime64 (or timedelta64) Series, or its ``.dt``, computed natively: ``ticks``, a
    ``tensor<?xi64>`` of ``unit`` ticks since 1970-01-01 (or long; NaT is -2**63)."""

    ticks: SSAValue
    unit: str
    #: for a ``.dt`` accessor, the datetime Series it is of
    series: object = None
    #: a timedelta (a difference of datetimes) rather than a datetime
    timedelta: bool = False
