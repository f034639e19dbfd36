"""Python calls that see exactly the objects the original code saw.

A ``pipeline.python_call`` operand computed natively is a numpy buffer at run time, where
the original code had a pandas Series or DataFrame (with an index, a name or columns, and
dtypes). At trace time, :func:`recipe` reads the example value and the IR value and records
how to rebuild that object around the buffer (:class:`Rebuild`); at run time
:class:`PythonFunction` only wraps. The index is the one pandas would give: that of the
object the rows come from (an operand of the call, added for it), or a fresh
``RangeIndex`` after a merge. Where no rule reproduces the example's index, :func:`recipe`
raises ``Unsupported`` rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.strings.accessor import StringMethods
from xdsl.dialects.builtin import TensorType
from xdsl.ir import BlockArgument, SSAValue

from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import FrameType, PythonCallOp, is_sparse

from .spec import Unsupported


@dataclass(frozen=True)
class Rebuild:
    """How to turn one run-time operand into the pandas object the example had.

    A Series is named ``name``; a frame has the ``columns`` (None for a Series); ``dtypes``
    are theirs. ``index`` is the position, among the call's index sources, of the object
    whose index the rows carry, or None for a fresh ``RangeIndex``. ``column`` marks a
    one-column frame whose only column is the Series (a text column selected from a frame).
    """

    name: Hashable
    columns: pd.Index | None
    dtypes: tuple[np.dtype, ...]
    index: int | None
    column: bool = False
    accessor: bool = False  # the column's ``.str`` accessor

    def __call__(self, buffer: Any, sources: tuple[Any, ...]) -> Any:
        if self.column:
            series = buffer.iloc[:, 0] if isinstance(buffer, pd.DataFrame) else buffer
            if series.name != self.name:  # a transformed column: pandas' own name
                series = series.rename(self.name)
            return series.str if self.accessor else series
        buffer = np.asarray(buffer)
        index = pd.RangeIndex(len(buffer)) if self.index is None else sources[self.index].index
        if self.columns is None:
            values = _as_dtype(buffer, self.dtypes[0])  # a fresh buffer each call: not copied
            return pd.Series(values, index=index, name=self.name, copy=False)
        # column-major, as pandas holds a frame's columns: numpy (``to_numpy``, scikit-learn's
        # ``check_array``) then gets the layout the original's frame gives, on which BLAS
        # sums in the same order (a row-major buffer: float32 LinearRegression.predict
        # differed by 3e-7 on a row)
        frame = pd.DataFrame(np.asfortranarray(buffer), index=index, columns=self.columns,
                             copy=False)  # fmt: skip
        for i, dtype in enumerate(self.dtypes):
            if frame.dtypes.iloc[i] != dtype:
                frame.isetitem(i, _as_dtype(frame.iloc[:, i].to_numpy(), dtype))
        return frame


@dataclass(frozen=True)
class ColumnMajor:
    """A 2-D array operand the example had in column-major order (what numpy makes of a
    pandas frame, and what scikit-learn's transformers keep): the native buffer, row-major,
    copied into that order, as BLAS sums in another order on another layout (a float32
    ``LinearRegression.predict`` after a Python scaler differed by 3e-7 on a row)."""

    def __call__(self, buffer: Any, sources: tuple[Any, ...]) -> Any:
        return np.asfortranarray(buffer)


def layout(example: object) -> ColumnMajor | None:
    """How an operand that reaches a Python call as a plain array gets the example's
    memory layout: ``ColumnMajor`` for a column-major matrix, else None (as it is)."""
    if isinstance(example, np.ndarray) and example.ndim == 2 and example.shape[1] > 1 \
            and example.flags.f_contiguous and not example.flags.c_contiguous:  # fmt: skip
        return ColumnMajor()
    return None


@dataclass(frozen=True)
class Relabel:
    """A returned frame's labels by the dtypes of the labels of the frame arguments (the
    example's ``object`` or ``str``, and the other): pandas takes a selection's labels
    from the frame's own (``df[cols] * 2``; an Arrow-fed frame has ``str`` labels), where
    native code names the result as on the example. Arguments with labels of other dtypes
    run the original function."""

    labels: tuple[tuple[tuple[str, ...], pd.Index], ...]

    def __call__(self, frame: pd.DataFrame, *arguments: pd.DataFrame) -> pd.DataFrame:
        found = tuple(str(a.columns.dtype) for a in arguments)
        for dtypes, labels in self.labels:
            if dtypes == found:
                return frame if frame.columns.dtype == labels.dtype else frame.set_axis(
                    labels, axis=1)  # fmt: skip
        from willump_mlir.runtime.marshal import Unhandled  # only on this rare path

        raise Unhandled("the result", f"is a frame whose labels pandas takes from arguments "
                        f"with labels of dtypes {found}, where the example's were "
                        f"{self.labels[0][0]}", kind="python-result")  # fmt: skip


def _as_dtype(buffer: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``buffer`` as ``dtype`` (bool from 0/1, float32 from float64); an integer dtype only
    where every value is an exact integer, else the buffer as it is."""
    if buffer.dtype == dtype:
        return buffer
    if dtype.kind == "b":
        return buffer.astype(bool)
    if dtype.kind in "iu" and buffer.dtype.kind == "f":
        info = np.iinfo(dtype)
        exact = np.isfinite(buffer) & (buffer == np.trunc(buffer))
        if not (exact.all() and (buffer >= info.min).all() and (buffer <= info.max).all()):
            return buffer
    return buffer.astype(dtype)


class PythonFunction:
    """A ``pipeline.python_call``'s function: rebuilds its operands, calls the original code
    and returns a tuple with one item per result of the op.

    The op's operands are the traced values, then the objects whose index rebuilt operands
    carry (``sources`` of them); ``unpack`` says whether the code returns a tuple of the
    results (statements rebinding names) or the one result itself. ``guards`` are (result,
    source) positions: a pandas result whose index was the argument's on the example must
    have it at run time too (native code combines it with the argument's rows by position);
    if it has not (``dropna``, ``reset_index`` on other rows), the call runs the original
    function (``marshal.Unhandled``). So it does if a result's ``dtypes`` or ``labels`` (see
    ``result_labels``) are not the example's.
    """

    def __init__(
        self, function: Callable, rebuilds: list[Rebuild | ColumnMajor | None], unpack: bool,
        guards: tuple[tuple[int, int], ...] = (), dtypes: tuple[tuple[int, Any], ...] = (),
        labels: tuple[tuple[int, pd.Index], ...] = (),
    ):  # fmt: skip
        self.function = function
        self.rebuilds = [(i, r) for i, r in enumerate(rebuilds) if r is not None]
        self.count = len(rebuilds)
        self.unpack = unpack
        self.guards = guards
        self.dtypes = dtypes
        self.labels = labels

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        operands, sources = list(args[: self.count]), args[self.count :]
        for i, rebuild in self.rebuilds:
            operands[i] = rebuild(operands[i], sources)
        result = self.function(*operands)
        results = tuple(result) if self.unpack else (result,)
        for k, source in self.guards:
            index = getattr(results[k], "index", None)
            if not isinstance(index, pd.Index) or not index.equals(sources[source].index):
                from willump_mlir.runtime.marshal import Unhandled  # only on this rare path

                raise Unhandled("a Python step's result", "has other rows (another index) "
                                "than its argument, as it had on the example",
                                kind="python-result")  # fmt: skip
        for k, dtypes in getattr(self, "dtypes", ()):  # (pickles of before it had them)
            if result_dtypes(results[k]) != dtypes:
                from willump_mlir.runtime.marshal import Unhandled  # only on this rare path

                raise Unhandled("a Python step's result", f"is {result_dtypes(results[k])}, "
                                f"where the example's was {dtypes} (the code was compiled "
                                "for those, as pandas computes on them)",
                                kind="python-result")  # fmt: skip
        for k, labels in getattr(self, "labels", ()):  # (pickles of before it had them)
            found = result_labels(results[k])
            if found is None or not _same_labels(found, labels):
                from willump_mlir.runtime.marshal import Unhandled  # only on this rare path

                shown = "no labels" if found is None else f"the labels {list(found)}"
                raise Unhandled("a Python step's result", f"has {shown}, where the example's "
                                f"had {list(labels)} (the code was "
                                "compiled for those: it reads columns by name and names "
                                "its results as they were)", kind="python-result")  # fmt: skip
        return results


def result_labels(value: object) -> pd.Index | None:
    """A Python step's pandas result's labels: a DataFrame's columns in order, a Series'
    name; None for another value. Native code reads such a frame's columns by name, and a
    result it computes from them is named as on the example: a step whose labels depend on
    the batch (``df.iloc[:, 0]``, ``df.select_dtypes(...)`` of reordered columns) must keep
    the example's at run time."""
    if isinstance(value, pd.DataFrame):
        return value.columns
    if isinstance(value, pd.Series):
        return pd.Index([value.name], dtype=object)
    return None


def _same_labels(a: pd.Index, b: pd.Index) -> bool:
    """The same labels in the same order, of the same types (``1`` is not ``"1"``)."""
    return a.equals(b) and [type(x) for x in a] == [type(x) for x in b]


def _numeric(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "iufb"


def result_dtypes(value: object) -> tuple[np.dtype, ...] | None:
    """The numpy dtypes of a Python step's numeric result (a Series, an array, each column
    of a frame, object for a frame's other columns); None if it is none of these. A result
    computed natively on must keep them at run time (pandas gives float64 for an int64
    column with a missing value: no int holds NaN; a frame of str and int64 lengths, where
    the example's lengths were float64, was read and returned as float64)."""
    if isinstance(value, pd.DataFrame):
        found = tuple(d if _numeric(d) else np.dtype(object) for d in value.dtypes)
        return found if any(_numeric(d) for d in value.dtypes) else None
    if isinstance(value, pd.Series | np.ndarray) and _numeric(value.dtype):
        return (value.dtype,)
    return None


def index_root(
    value: object, examples: dict[SSAValue, object], sources: list[SSAValue]
) -> SSAValue | None:
    """The data argument whose example index ``value`` (a Python call's pandas result)
    has, added to ``sources``; None if it has none's."""
    if not isinstance(value, pd.Series | pd.DataFrame):
        return None
    for ssa, example in examples.items():
        if isinstance(ssa, BlockArgument) and isinstance(example, pd.Series | pd.DataFrame) \
                and same_index(example.index, value.index):  # fmt: skip
            if ssa not in sources:
                sources.append(ssa)
            return ssa
    return None


def _origins(value: SSAValue, roots: dict[SSAValue, SSAValue]) -> tuple[list[SSAValue], bool]:
    """The values the rows of native ``value`` come from: arguments and Python call results
    (a value in ``roots`` has the rows of the value it maps to); and whether some come from a
    ``feature.join`` (pandas gives a merge a fresh index)."""
    sources: list[SSAValue] = []
    joined = False
    stack, seen = [value], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        owner = current.owner
        if current in roots:
            stack.append(roots[current])
        elif isinstance(current, BlockArgument) or isinstance(owner, PythonCallOp):
            sources.append(current)
        elif isinstance(owner, feature.JoinOp):
            joined = True
        else:
            stack.extend(owner.operands)  # type: ignore[union-attr]
    return sources, joined


def same_index(a: pd.Index, b: pd.Index) -> bool:
    """The same index: type, names, dtype and labels."""
    return type(a) is type(b) and a.names == b.names and a.dtype == b.dtype and a.equals(b)


def _pandas_origins(
    value: SSAValue, examples: dict[SSAValue, object], roots: dict[SSAValue, SSAValue]
) -> tuple[list, bool]:
    """The arguments and Python results with a pandas example that the rows of ``value``
    come from (through ``roots``: see ``_origins``), and whether some rows come from a
    merge."""
    origins, joined = _origins(value, roots)
    return [s for s in origins if isinstance(examples.get(s), pd.Series | pd.DataFrame)], joined


def check_aligned(
    values: list[SSAValue], examples: dict[SSAValue, object], example: object,
    roots: dict[SSAValue, SSAValue],
) -> None:  # fmt: skip
    """``Unsupported`` if native ``values``, combined into the pandas object ``example``,
    come from pandas objects that pandas would align by label where native code goes by
    position: objects whose example indexes differ, or (for a pandas result) more than one
    object, as indexes equal on the example may differ at run time. A Python call's result
    counts as the argument it is guarded to have the index of (``roots``: see
    ``PythonFunction``); a merge counts as an object of its own (pandas gives it a fresh
    index, which a frame's own index equals only when that is the default one)."""
    origins = [_pandas_origins(v, examples, roots) for v in values]
    pandas = sorted({s for found, _ in origins for s in found}, key=id)
    indexes = [examples[s].index for s in pandas]  # type: ignore[union-attr]
    if any(not same_index(indexes[0], other) for other in indexes[1:]):
        raise Unsupported("pandas aligns the operands' indexes, which differ")
    merged = {"a merge"} if any(joined for _, joined in origins) else set()
    distinct = {roots.get(s, s) for s in pandas} | merged
    if isinstance(example, pd.Series | pd.DataFrame) and len(distinct) > 1:
        raise Unsupported("pandas aligns operands from different objects by their index, "
                          "which may differ at run time")  # fmt: skip


def recipe(
    example: object, value: SSAValue, examples: dict[SSAValue, object], sources: list[SSAValue],
    roots: dict[SSAValue, SSAValue],
) -> Rebuild | None:  # fmt: skip
    """How to rebuild the operand ``value`` whose example is ``example``; None if it reaches
    the call as it is. ``examples`` holds the example of every argument and Python call
    result; the value whose index the rebuilt object carries is added to ``sources``
    (``roots``: see ``_origins``)."""
    if isinstance(value.type, FrameType) and isinstance(example, StringMethods):
        return Rebuild(example._orig.name, None, (), None, column=True, accessor=True)
    if not isinstance(example, pd.Series | pd.DataFrame):
        return None
    if isinstance(value.type, FrameType):  # a frame at run time: a Series is its column
        series = isinstance(example, pd.Series)
        return Rebuild(example.name, None, (), None, column=True) if series else None
    if isinstance(value, BlockArgument) or isinstance(value.owner, PythonCallOp):
        return None
    typ = value.type
    rank = 1 if isinstance(example, pd.Series) else 2
    if not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != rank:
        raise Unsupported(f"a {type(example).__name__} computed natively as {typ} cannot be "
                          "given to Python as the original object")  # fmt: skip
    series = isinstance(example, pd.Series)
    name, columns = (example.name, None) if series else (None, example.columns)
    dtypes = (example.dtype,) if series else tuple(example.dtypes)
    if not all(isinstance(d, np.dtype) and d.kind in "biuf" for d in dtypes):
        raise Unsupported(f"a {type(example).__name__} of dtype {dtypes[0]} computed natively "
                          "cannot be given to Python as the original object")  # fmt: skip
    pandas, joined = _pandas_origins(value, examples, roots)
    index = example.index
    aligned = all(same_index(examples[s].index, index) for s in pandas)  # type: ignore[union-attr]
    if pandas and aligned and not joined:
        if pandas[0] not in sources:
            sources.append(pandas[0])
        return Rebuild(name, columns, dtypes, sources.index(pandas[0]))
    if joined and not pandas and same_index(pd.RangeIndex(len(index)), index):
        return Rebuild(name, columns, dtypes, None)
    raise Unsupported(f"the index of a {type(example).__name__} computed natively cannot be "
                      "reproduced at run time")  # fmt: skip
