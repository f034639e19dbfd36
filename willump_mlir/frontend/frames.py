"""DataFrames assembled while tracing, kept as their columns.

Notebook code builds its model input column by column: ``X = df[cols].copy()``,
``X["ratio"] = X["a"] / X["b"]``, ``X = X.fillna(0)``, ``X.assign(c=...)``. Such a frame
is an *assembled* frame during tracing: a :class:`Val` whose ``columns`` name its
``items``, one traced value per column (a native vector, a text column, or a Python
result). Reading a column takes its item; a model, ``.to_numpy()`` or ``.values`` read
the numeric columns stacked into one matrix (``pipeline.hstack`` of the columns, each
cast to f64), natively. Anywhere else (a Python fallback, a return, a native op that
needs a frame) :meth:`FrameAssembly.materialize` builds the pandas DataFrame in Python
around the columns, with the index the rows come from (``frontend.fallback``), and checks
at trace time that it is the original's frame.

Native code never mutates its inputs, so unlike the original, the compiled function does
not add columns to a DataFrame argument it assigns to (its result is the same).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f32, f64, i1, i64
from xdsl.ir import Attribute, SSAValue

from willump_mlir.abi import MISSING_ANY
from willump_mlir.dialects.pipeline import (
    BinaryOp,
    BroadcastOp,
    CastOp,
    ConstantOp,
    FrameType,
    ReduceOp,
    SelectColumnsOp,
    StrType,
    TakeColumnOp,
    WhereOp,
    is_sparse,
)

from .categories import model_categories
from .estimators import hstack_op, narrow_floats
from .fallback import check_aligned, same_index
from .narrow_ints import is_narrow
from .nullable import fillna_reason, is_filled, is_native, is_nullable
from .params import FRAME_INPUT, imputed_strings
from .spec import Unsupported
from .string_vocab import _fill, string_column
from .types import element_type, float32_number
from .values import Pending, Val

if TYPE_CHECKING:
    from sklearn.impute import SimpleImputer

    from .tracer import Tracer


def is_frame(val: Val) -> bool:
    """A DataFrame with native columns: an argument or a selection, or an assembled one."""
    if not isinstance(val.value, pd.DataFrame):
        return False
    return val.columns is not None or isinstance(getattr(val.ssa, "type", None), FrameType)


def _vector(val: Val) -> bool:
    """A native 1-D batch of f64, f32, i64 or i1 (a numeric column)."""
    typ = val.ssa.type if val.ssa is not None else None
    return (
        isinstance(typ, TensorType) and not is_sparse(typ) and typ.get_num_dims() == 1
        and typ.get_element_type() in (f64, f32, i64, i1)
    )  # fmt: skip


def _native_dtype(dtype: object) -> bool:
    """A column dtype native code computes on as pandas does: float64, float32, int64, bool
    (nullable and narrower integer columns are carried, not computed on)."""
    return isinstance(dtype, np.dtype) and element_type(dtype) is not None


def _element_of(val: Val) -> Attribute:
    return val.ssa.type.get_element_type()  # type: ignore[union-attr]


_NUMBERS = (int, float, np.integer, np.floating)  # a number fill (bool excepted)


def _scalar(val: Val) -> bool:
    """A constant number, bool, str or None, or a batch reduction's scalar (``s.mean()``,
    ``s.max() - s.min()``)."""
    if val.is_static:
        return val.value is None or isinstance(val.value, (*_NUMBERS, bool, np.bool_, str))
    return val.items is None and val.ssa is not None and isinstance(
        val.ssa.owner, ReduceOp | BinaryOp
    ) and val.ssa.type in (f64, i64)  # fmt: skip


def _exact(value: object, dtype: np.dtype) -> float | int:
    """``value`` as a Python number of ``dtype``, the column pandas gives of it (float32:
    rounded, as numpy does); ``Unsupported`` if the value changes otherwise."""
    if dtype == np.float32:
        return float32_number(value)  # type: ignore[arg-type]
    converted = dtype.type(value)  # type: ignore[call-arg]
    if not (converted == value or (converted != converted and value != value)):  # noqa: PLR0124
        raise Unsupported(f"{value!r} in a {dtype} column is not exact")
    return converted.item()  # type: ignore[no-any-return]


def _rows_type(typ: Attribute) -> bool:
    """A frame or a dense batch: what ``pipeline.broadcast`` takes its rows from."""
    return isinstance(typ, FrameType) or (isinstance(typ, TensorType) and not is_sparse(typ))


def index_source(frame: Val) -> list[SSAValue]:
    """The IR value of the frame whose index the assembled ``frame`` was built on
    (``pd.DataFrame(index=df.index)``), if any."""
    source = frame.index_of
    return [source.ssa] if source is not None and source.ssa is not None else []


def _holds(val: Val, ssa: SSAValue) -> bool:
    """Whether ``val``, or a column or item of it, is the IR value ``ssa``."""
    return val.ssa is ssa or any(_holds(item, ssa) for item in val.items or [])


class FrameAssembly:
    """Column assignment, ``copy``, ``fillna``, ``assign`` and matrices of frames."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def columns_of(self, frame: Val) -> Val:
        """``frame`` as an assembled frame (``Unsupported`` if a column cannot be a value)."""
        if frame.columns is not None:
            return frame
        value = frame.value
        assert isinstance(value, pd.DataFrame) and frame.ssa is not None
        names = list(value.columns)
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise Unsupported("the frame's column names are not distinct strings")
        typ = frame.ssa.type
        assert isinstance(typ, FrameType)
        items = []
        for name in names:
            column = value[name]
            if isinstance(typ.dtype_of(name), StrType) or not (
                _native_dtype(column.dtype) or is_narrow(column.dtype)
            ):
                # a str column, or one carried as it is (nullable Int64, int32...: no native
                # op computes on it); Python code gets the frame's own column
                select = self.tracer.emit(SelectColumnsOp(frame.ssa, [name]))
                items.append(Val(column, select.result))
            else:
                items.append(self.tracer._column(frame, name, column))
        return Val(value, items=items, columns=names)

    def column(self, frame: Val, name: str) -> Val:
        """``frame[name]`` of an assembled frame. An array assigned as a column while a
        variable holds it keeps its own rows (:meth:`placed`), where pandas gives the column
        the frame's index: read back as a Series, it runs in Python."""
        item = self._item(frame, name)
        if isinstance(item.value, np.ndarray) and isinstance(frame.value, pd.DataFrame) \
                and isinstance(frame.value.get(name), pd.Series):  # fmt: skip
            raise Unsupported(f"column {name!r} is an array a variable also holds, of its own "
                              "rows: pandas reads it back with the frame's index")  # fmt: skip
        self.tracer.vocab.check_stable([item], "a column")
        return item

    @staticmethod
    def _item(frame: Val, name: str) -> Val:
        assert frame.columns is not None and frame.items is not None
        if name not in frame.columns:
            raise Unsupported(f"column {name!r} is not in the frame")
        return frame.items[frame.columns.index(name)]

    def select(self, frame: Val, names: list[str], value: pd.DataFrame) -> Val:
        """``frame[[names]]`` of an assembled frame."""
        return Val(value, items=[self._item(frame, n) for n in names], columns=list(names))

    def subset(self, frame: Val, value: object) -> Val | None:
        """``value``, the example's result of a call that keeps some of ``frame``'s columns
        (``drop(columns=...)``, ``reindex(columns=...)``, ``filter(items=...)``: which ones
        depends on the call's constant arguments only), as their selection; None if it has
        another column or its names are not distinct strings."""
        if not isinstance(value, pd.DataFrame) or not isinstance(frame.value, pd.DataFrame):
            return None
        kept = list(value.columns)
        if not all(isinstance(n, str) for n in kept) or len(set(kept)) != len(kept) \
                or not set(kept) <= set(frame.value.columns):  # fmt: skip
            return None
        if frame.columns is not None:
            return self.select(frame, kept, value)
        assert frame.ssa is not None
        return self.tracer._checked(SelectColumnsOp(frame.ssa, kept), value)

    def rename(self, frame: Val, value: object) -> Val | None:
        """``frame.rename(columns=...)`` (``value`` on the example): the same columns under
        the new names (a str column keeps its own name in the IR, so an estimator reading
        it by name gets the frame built in Python); None for other results."""
        if not isinstance(value, pd.DataFrame) or len(value.columns) != len(frame.value.columns):  # type: ignore[union-attr]
            return None
        names = list(value.columns)
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            return None
        frame = self.columns_of(frame)
        return Val(value, items=frame.items, columns=names, index_of=frame.index_of)

    def assign(self, frame: Val, name: str, column: Val, loc: bool = False) -> Val:
        """``frame`` with column ``name`` set to ``column``, as ``frame[name] = column``
        (``loc``: as ``frame.loc[:, name] = column``, which keeps an existing column's
        dtype); a scalar is broadcast over the frame's rows (:meth:`constant_column`)."""
        if _scalar(column):
            column = self.constant_column(frame, name, column, loc)
        elif loc and name in frame.value.columns:  # type: ignore[union-attr]
            kept = frame.value[name].dtype  # type: ignore[index]
            if getattr(column.value, "dtype", None) != kept:
                raise Unsupported(f"X.loc[:, {name!r}] = ... keeps the column's dtype, {kept}")
        frame = self.columns_of(frame)
        assert frame.columns is not None and frame.items is not None
        text = isinstance(column.value, pd.Series) and isinstance(
            getattr(column.ssa, "type", None), FrameType
        )
        category = column.category is not None
        # a nullable column's fillna or a value computed natively, native where converted
        filled = is_filled(column) or is_native(column)
        if not (_vector(column) or text or category or filled) or column.columns is not None:
            if is_nullable(column.value):
                raise Unsupported(f"the assigned value is a nullable {column.value.dtype} "  # type: ignore[union-attr]
                                  "column computed in Python (pd.NA semantics)")  # fmt: skip
            raise Unsupported("the assigned value is not a column of numbers or text")
        example = column.value
        if isinstance(example, pd.Series):
            if not same_index(example.index, frame.value.index):  # type: ignore[union-attr]
                raise Unsupported("pandas aligns the assigned Series by its index, which differs")
        elif not (isinstance(example, np.ndarray | pd.Categorical)
                  and example.shape == (len(frame.value),)):  # fmt: skip
            raise Unsupported("the assigned value is not a column of the frame's rows")
        value = frame.value.copy()  # type: ignore[union-attr]
        value[name] = example
        if isinstance(example, pd.Series):
            sources = [i.category.source if i.category is not None else
                       i.pending.source if is_filled(i) or is_native(i) else i  # type: ignore[union-attr]
                       for i in (*frame.items, column)]  # fmt: skip
            series = [i.ssa for i in sources
                      if isinstance(i.value, pd.Series) and i.ssa is not None]  # fmt: skip
            series += index_source(frame)  # pd.DataFrame(index=df.index): df's rows
            check_aligned(series, self.tracer.examples, value, self.tracer.index_roots)
        items, names = list(frame.items), list(frame.columns)
        if isinstance(example, pd.Series) and example.name != name and column.ssa is not None \
                and not category:  # fmt: skip
            column = dataclasses.replace(column, value=value[name])  # ``X[name]`` is named so
        elif isinstance(example, np.ndarray) and column.ssa is not None and not category:
            column = self.placed(frame, column, value[name])
        if name in names:
            items[names.index(name)] = column
        else:
            items.append(column)
            names.append(name)
        if list(value.columns) != names:
            raise Unsupported("the frame's columns are not in assignment order")
        return Val(value, items=items, columns=names, index_of=frame.index_of)

    def placed(self, frame: Val, column: Val, series: pd.Series) -> Val:
        """The native array ``column`` assigned to ``frame`` as the Series pandas makes of it
        (``series``: named, with the frame's index), its rows now the frame's
        (``Tracer.index_roots``: ``x[name] + x[other]`` of a merged ``x`` is aligned). Only
        an array no variable holds (``df["x"].values * 2``, not ``s.values`` of a Series
        ``s`` whose rows stay its own): else it stays an array of its own rows."""
        assert column.ssa is not None
        try:
            rows = self.rows(frame)
        except Unsupported:
            return column  # the frame's rows are no IR value
        if rows is column.ssa or column.ssa in self.tracer.index_roots \
                or any(_holds(v, column.ssa) for v in self.tracer.env.values()):  # fmt: skip
            return column
        self.tracer.index_roots[column.ssa] = rows
        return dataclasses.replace(column, value=series)

    def insert(self, frame: Val, position: Val, name: Val, column: Val) -> Val:
        """``frame`` after ``frame.insert(position, name, column)``: ``column`` (as
        :meth:`assign` takes it) at ``position`` among the columns, a new one (pandas raises
        for a name the frame has)."""
        if not (isinstance(position.value, int) and position.is_static and name.is_static
                and isinstance(name.value, str)):  # fmt: skip
            raise Unsupported("X.insert(k, c, value) is compiled for a constant int k and str c")
        if name.value in frame.value.columns:  # type: ignore[union-attr]
            raise Unsupported(f"X.insert of {name.value!r}, a column the frame has")
        assigned = self.assign(frame, name.value, column)
        assert assigned.columns is not None and assigned.items is not None
        names, items = list(assigned.columns), list(assigned.items)
        names.insert(position.value, names.pop())
        items.insert(position.value, items.pop())
        value = frame.value.copy()  # type: ignore[union-attr]
        value.insert(position.value, name.value, column.value)
        if list(value.columns) != names:  # a position pandas refuses, or reads otherwise
            raise Unsupported(f"X.insert at position {position.value}")
        return Val(value, items=items, columns=names, index_of=assigned.index_of)

    def constant_column(self, frame: Val, name: str, scalar: Val, loc: bool) -> Val:
        """``scalar`` (a number, a bool, NaN, or a batch reduction) as column ``name`` of
        ``frame``: ``pipeline.broadcast`` over the frame's rows, of the dtype pandas gives
        (int64 for an int, float64 for a float, bool for a bool, float32 for a numpy
        float32; ``loc``: an existing column's, which the value must fit exactly). Other
        dtypes (str, object, uint64, int32) are not compiled."""
        example = frame.value.copy()  # type: ignore[union-attr]
        if loc:
            example.loc[:, name] = scalar.value
        else:
            example[name] = scalar.value
        series = example[name]
        element = element_type(series.dtype) if isinstance(series.dtype, np.dtype) else None
        if element is None:
            raise Unsupported(f"a constant column of {series.dtype} (pandas' for "
                              f"{type(scalar.value).__name__} {scalar.value!r}) is built in "
                              "Python")  # fmt: skip
        rows = self.rows(frame)
        emit = self.tracer.emit
        if scalar.ssa is not None:  # a batch reduction's scalar: pandas keeps its dtype
            if scalar.ssa.type != element:
                raise Unsupported(f"a {scalar.ssa.type} scalar in a {series.dtype} column")
            return self.tracer._checked(BroadcastOp(scalar.ssa, rows), series)
        number = _exact(scalar.value, series.dtype)
        if element == f32:
            constant = emit(ConstantOp(number, f32)).result
        else:
            constant = emit(ConstantOp(number if element == f64 else int(number))).result
        if element == i1:  # 0 or 1, then x != 0
            broadcast = emit(BroadcastOp(constant, rows)).result
            return self.tracer._checked(CastOp(broadcast, i1), series)
        return self.tracer._checked(BroadcastOp(constant, rows), series)

    def rows(self, frame: Val) -> SSAValue:
        """An IR value with the rows (and index) of ``frame``: the frame itself, a column of
        it, or the frame it was built on (``pd.DataFrame(index=df.index)``)."""
        if frame.ssa is not None and isinstance(frame.ssa.type, FrameType):
            return frame.ssa
        index = frame.value.index  # type: ignore[union-attr]
        rows = [item.ssa for item in frame.items or []
                if item.ssa is not None and isinstance(item.value, pd.Series)
                and same_index(item.value.index, index) and _rows_type(item.ssa.type)]  # fmt: skip
        # a column read from a frame first: the constant then depends on no computation
        rows.sort(key=lambda r: not isinstance(r.owner, SelectColumnsOp | TakeColumnOp))
        rows += index_source(frame)
        if not rows:
            raise Unsupported("no column of the frame carries its rows")
        return rows[0]  # type: ignore[return-value]

    def assign_where(self, frame: Val, name: str, mask: Val, new: Val) -> Val:
        """``frame`` after ``frame.loc[mask, name] = new``, a boolean batch ``mask`` and a
        number or a numeric column of the frame's rows, as ``pipeline.where`` of the column
        (a new column: NaN elsewhere, float64). pandas keeps an int64 column's dtype for an
        integral number or an int64 column and raises for a fractional number (so does the
        original, on the example); a float64 column takes any number."""
        masked = mask.ssa.type if mask.ssa is not None else None
        if not (isinstance(masked, TensorType) and not is_sparse(masked)
                and masked.get_num_dims() == 1 and masked.get_element_type() == i1):  # fmt: skip
            raise Unsupported("X.loc[rows, c] = ... is compiled for a boolean mask of rows")
        batch = _vector(new) and isinstance(new.value, pd.Series) \
            and new.ssa.type.get_element_type() != i1  # type: ignore[union-attr]  # fmt: skip
        if not batch and (not new.is_static or isinstance(new.value, bool | np.bool_)
                          or not isinstance(new.value, _NUMBERS)):  # fmt: skip
            raise Unsupported("X.loc[mask, c] = ... is compiled for a number (int or float) "
                              "or a numeric column")  # fmt: skip
        assert mask.ssa is not None and isinstance(frame.value, pd.DataFrame)
        value = frame.value.copy()
        value.loc[mask.value, name] = new.value  # type: ignore[index]
        emit = self.tracer.emit
        rest = None  # a new column: NaN where the mask is False
        element = f64
        if name in frame.value.columns:
            column = self._item(self.columns_of(frame), name)
            if not _vector(column) or column.ssa.type.get_element_type() == i1:  # type: ignore[union-attr]
                raise Unsupported(f"X.loc[mask, {name!r}] = ... of a column that is not int64, "
                                  "float64 or float32")  # fmt: skip
            element = column.ssa.type.get_element_type()  # type: ignore[union-attr]
            rest = column.ssa
        if batch:
            if element == i64 and new.ssa.type.get_element_type() != i64:  # type: ignore[union-attr]
                raise Unsupported(f"floats in the int64 column {name!r} are not compiled")
            put = new.ssa
        else:
            number = float(new.value)  # type: ignore[arg-type]
            whole = int(new.value) if isinstance(new.value, int | np.integer) \
                else int(number) if number.is_integer() else None  # fmt: skip
            if element == i64 and (whole is None or not -(2**63) <= whole < 2**63):
                raise Unsupported(f"{new.value!r} in an int64 column is not int64 (pandas)")
            constant = ConstantOp(float32_number(number), f32) if element == f32 \
                else ConstantOp(number if element == f64 else whole)  # type: ignore[arg-type]  # fmt: skip
            put = emit(constant).result
        if rest is None:
            rest = self.tracer._constant_batch(emit(ConstantOp(float("nan"))).result, mask.ssa)
        assert put is not None
        return self.assign(frame, name, self.tracer._checked(WhereOp(mask.ssa, put, rest),
                                                             value[name]))  # fmt: skip

    def assign_columns(self, frame: Val, names: list[object], other: Val) -> Val:
        """``frame[names] = other`` of a frame ``other`` with as many columns: pandas sets
        ``frame[names[k]] = other[other.columns[k]]``, by position."""
        if not is_frame(other) or len(set(names)) != len(names) or \
                not all(isinstance(n, str) for n in names):  # fmt: skip
            raise Unsupported("assigning to a list of columns is compiled for a DataFrame of "
                              "as many columns, named by distinct str")  # fmt: skip
        other = self.columns_of(other)
        assert other.columns is not None
        if len(other.columns) != len(names):  # pandas raises
            raise Unsupported("the columns assigned are not as many as the names")
        for name, column in zip(names, other.columns, strict=True):
            frame = self.assign(frame, name, self._item(other, column))  # type: ignore[arg-type]
        return frame

    def from_dict(self, mapping: Val, value: object) -> Val:
        """``pd.DataFrame({name: column, ...})`` (``value``) of numeric or text columns, and
        of numbers beside them (``{"year": s, "month": 6}``: a constant column, as
        ``X["month"] = 6`` gives it)."""
        assert isinstance(mapping.value, dict) and mapping.items is not None
        names, items = list(mapping.value), list(mapping.items)
        constants = [i for i, item in enumerate(items) if _scalar(item)]
        if not constants or len(constants) == len(items) or not isinstance(value, pd.DataFrame):
            return self._assembled(names, items, value)
        kept = [i for i in range(len(items)) if i not in constants]
        frame = self._assembled([names[i] for i in kept], [items[i] for i in kept],
                                value[[names[i] for i in kept]])  # fmt: skip
        columns = dict(zip(frame.columns or [], frame.items or [], strict=True))
        for i in constants:
            column = self.constant_column(frame, names[i], items[i], loc=False)
            if column.value.dtype != value[names[i]].dtype:  # type: ignore[union-attr]
                raise Unsupported(f"the constant column {names[i]!r} has another dtype")
            columns[names[i]] = column
        return Val(value, items=[columns[n] for n in names], columns=names)

    def concat(self, parts: list[Val], value: object) -> Val:
        """``pd.concat(parts, axis=1)`` (``value``) of frames and named Series."""
        names: list[object] = []
        items: list[Val] = []
        for part in parts:
            if is_frame(part):
                frame = self.columns_of(part)
                assert frame.columns is not None and frame.items is not None
                if not (isinstance(value, pd.DataFrame)
                        and same_index(frame.value.index, value.index)):  # type: ignore[union-attr]  # fmt: skip
                    raise Unsupported("pd.concat aligns the frames by their index, which differs")
                names += frame.columns
                items += frame.items
            elif isinstance(part.value, pd.Series) and part.columns is None:
                names.append(part.value.name)
                items.append(part)
            else:
                raise Unsupported("pd.concat of a value that is neither a DataFrame nor a Series")
        return self._assembled(names, items, value)

    def _assembled(self, names: list[object], items: list[Val], value: object) -> Val:
        """The frame ``value`` made of the columns ``items`` named ``names``, as pandas
        makes it from them: every Series on the frame's index, every array of its rows."""
        if not isinstance(value, pd.DataFrame) or list(value.columns) != names:
            raise Unsupported("the DataFrame's columns are not the ones given")
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise Unsupported("the frame's column names are not distinct strings")
        for i, item in enumerate(items):
            text = isinstance(item.value, pd.Series) and isinstance(
                getattr(item.ssa, "type", None), FrameType
            )
            if not (_vector(item) or text or is_native(item)) or item.columns is not None:
                raise Unsupported("a column of the frame is not a column of numbers or text")
            example = item.value
            if isinstance(example, pd.Series):
                if not same_index(example.index, value.index):
                    raise Unsupported("pandas aligns the Series by its index, which differs")
            elif not (isinstance(example, np.ndarray) and example.shape == (len(value),)):
                raise Unsupported("a column is not an array of the frame's rows")
            if value.dtypes.iloc[i] != example.dtype:  # type: ignore[union-attr]
                raise Unsupported("a column of the frame changes its dtype")
        sources = [i.pending.source if is_native(i) else i for i in items]  # type: ignore[union-attr]
        series = [i.ssa for i in sources if isinstance(i.value, pd.Series) and i.ssa is not None]
        check_aligned(series, self.tracer.examples, value, self.tracer.index_roots)
        return Val(value, items=list(items), columns=list(names))  # type: ignore[arg-type]

    def fill(self, val: Val, fill: object, value: object) -> Val:
        """``val.fillna(fill)`` of a numeric column or a frame (a number, a batch reduction's
        scalar ``Val``, or a dict or constant Series of numbers and str by column): NaN
        replaced by the number in f64 columns; int and bool columns hold no NaN and are
        kept; a str column's missing values (None, NaN) become a str fill natively
        (``str_fill``), and a number, which makes the column object of str and numbers, in
        Python where it is read."""
        if is_frame(val):
            frame = self.columns_of(val)
            assert frame.columns is not None and frame.items is not None
            if isinstance(fill, pd.Series):  # pandas aligns it with the columns, by name
                if not fill.index.is_unique:
                    raise Unsupported("fillna with a Series of repeated labels is not compiled")
                fill = fill.to_dict()
            fills = fill if isinstance(fill, dict) else dict.fromkeys(frame.columns, fill)
            items = []
            for name, item in zip(frame.columns, frame.items, strict=True):
                assert isinstance(value, pd.DataFrame)
                if name not in fills:
                    items.append(item)
                elif is_native(item):
                    text = f"[{name!r}].fillna({fills[name]!r})"
                    items.append(self.tracer.nullable.fillna(item, fills[name], value[name], text))
                elif string_column(item) is not None or item.pending is not None:
                    items.append(self.fill_text(item, fills[name], value[name], name))
                else:
                    items.append(self.fill(item, fills[name], value[name]))
            return Val(value, items=items, columns=frame.columns)
        if is_nullable(val.value) and val.ssa is not None:
            text = f"[{getattr(val.value, 'name', None)!r}].fillna({fill!r})"
            return self.tracer.nullable.fillna(val, fill, value, text)  # type: ignore[arg-type]
        if val.narrow is not None and getattr(value, "dtype", None) == val.value.dtype:  # type: ignore[attr-defined]
            return Val(value, val.ssa, narrow=val.narrow)  # no NaN: pandas keeps it
        if not _vector(val):
            dtype = getattr(val.value, "dtype", None)
            if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "biuf":
                raise Unsupported(fillna_reason(dtype))
            raise Unsupported("fillna of this value is not compiled (numeric columns only)")
        assert val.ssa is not None and isinstance(val.ssa.type, TensorType)
        element = val.ssa.type.get_element_type()
        if element not in (f64, f32):  # no NaN: pandas keeps it, whatever fill
            return Val(value, val.ssa)
        if isinstance(fill, bool) or not isinstance(fill, (Val, *_NUMBERS)):
            raise Unsupported("fillna of a float column is compiled with a number only")
        if isinstance(fill, Val) and element == f32:
            raise Unsupported("fillna of a float32 column with a batch reduction is not "
                              "compiled")  # fmt: skip
        missing = self.tracer.emit(BinaryOp("ne", val.ssa, val.ssa))  # NaN != NaN
        if isinstance(fill, Val):  # where promotes an i64 scalar to f64, as pandas does
            assert fill.ssa is not None
            number = fill.ssa
        elif element == f32:  # pandas keeps float32, the fill rounded to it
            number = self.tracer.emit(ConstantOp(float32_number(fill), f32)).result
        else:
            number = self.tracer.emit(ConstantOp(float(fill))).result
        return self.tracer._checked(WhereOp(missing.result, number, val.ssa), value)

    def fill_text(self, item: Val, fill: object, value: pd.Series, name: str) -> Val:
        """Column ``name`` of a frame's ``fillna``: the str column ``item`` filled with
        ``fill`` (``value`` on the example)."""
        pending = item.pending
        if pending is not None and pending.kind == "fillna":
            return Val(value, item.ssa, pending=pending)  # filled before: nothing is missing
        source = f"X[{name!r}].fillna({fill!r})"
        if pending is None and isinstance(fill, str):
            return self.tracer.vocab.fillna(item, fill, value, source)
        if pending is not None or isinstance(fill, Val | bool) or \
                not isinstance(fill, _NUMBERS):  # fmt: skip
            raise Unsupported(f"fillna({fill!r}) of str column {name!r} is not compiled")
        # pandas makes the column object of str and numbers: read in Python only (the frame
        # may never read it: ``df.fillna(0)[numeric_columns]``)
        reason = "fillna with a number makes a str column object of str and numbers"
        if item.ssa is not None:
            self.tracer.left_to_pandas(item.ssa)
        return Val(value, pending=Pending("fillna_number", item, {"value": fill},
                                          functools.partial(_fill, fill=fill),
                                          source, reason))  # fmt: skip

    def missing(self, val: Val, present: bool, value: object) -> Val:
        """``isna()`` / ``notna()`` of a numeric column."""
        if not _vector(val):
            raise Unsupported("isna/notna of this value is not compiled (numeric columns only)")
        assert val.ssa is not None
        return self.tracer._checked(BinaryOp("eq" if present else "ne", val.ssa, val.ssa), value)

    def matrix(self, frame: Val, value: object) -> Val:
        """The numeric columns of an assembled frame as one f64 matrix, standing for
        ``value`` (the frame's ``to_numpy()``, or what a model reads); an f32 matrix for a
        float32 ``value``, of float32 columns (pandas' matrix of such a frame, which
        scikit-learn computes on in float32 but for linear models and trees)."""
        frame = self.tracer.nullable.native_items(frame)
        assert frame.items is not None
        if getattr(value, "dtype", None) == np.float32:
            if not all(_vector(i) and _element_of(i) == f32 for i in frame.items):
                raise Unsupported("the frame's matrix is float32 of other columns than "
                                  "float32 ones")  # fmt: skip
            items = [i.ssa for i in frame.items]
            op = self.tracer.emit(hstack_op(items, value, "the frame's columns"))  # type: ignore[arg-type]
            return Val(value, op.result)
        inputs = []
        for item in frame.items:
            if item.narrow is not None and getattr(value, "dtype", None) == np.float64:
                item = Val(item.value, item.narrow)  # its values, converted exactly
            if not _vector(item):
                raise Unsupported("a column of the frame is not numeric")
            assert item.ssa is not None and isinstance(item.ssa.type, TensorType)
            cast = item.ssa.type.get_element_type() != f64
            inputs.append(self.tracer.emit(CastOp(item.ssa, f64)).result if cast else item.ssa)
        op = self.tracer.emit(hstack_op(inputs, value, "the frame's columns"))
        return Val(value, op.result)

    def model_input(self, frame: Val, est: object) -> Val:
        """What the model ``est`` reads from an assembled frame: its columns as an f64
        matrix. A category column is the code ``est`` maps its value to; the result then
        stands for the frame itself (``est`` predicts on the frame, as the code does)."""
        frame = self.tracer.nullable.native_items(frame)
        assert frame.items is not None and isinstance(frame.value, pd.DataFrame)
        if not all(_vector(item) or item.category is not None or item.narrow is not None
                   for item in frame.items):  # fmt: skip
            # str columns (a ColumnTransformer's one-hot encoder): the model reads the frame
            raise Unsupported("a column of the frame is not numeric")
        if all(item.category is None for item in frame.items):
            dtype = np.float32 if narrow_floats(frame.value) else np.float64
            return self.matrix(frame, frame.value.to_numpy(dtype=dtype))
        known = iter(model_categories(est, frame.value, frame.items))
        items = [item if item.category is None else self.tracer.categories.codes(item, next(known))
                 for item in frame.items]  # fmt: skip
        value = np.column_stack([np.asarray(i.value, dtype=np.float64) for i in items])
        matrix = self.matrix(Val(frame.value, items=items, columns=frame.columns), value)
        return Val(frame.value, matrix.ssa)

    def encoded(self, frame: Val, est: object, imputer: SimpleImputer | None = None) -> Val:
        """``est.transform(frame)`` of an encoder and an assembled frame of str columns
        of one frame, each as it is or ``fillna(str)``-filled (or renamed): the encoder reads
        that frame's columns, a missing value of a filled column as the code of its fill. With
        ``imputer`` (a ``SimpleImputer`` of str before the encoder), a column not filled
        takes the imputer's fill (a filled one has no missing value left for it)."""
        assert frame.columns is not None and frame.items is not None
        if not isinstance(est, FRAME_INPUT):
            raise Unsupported(f"{type(est).__name__} of str columns filled with fillna")
        imputed: list[tuple[str, int] | None] = [None] * len(frame.columns)
        if imputer is not None:
            imputed = list(imputed_strings(imputer, len(frame.columns)))
        sources: list[SSAValue] = []
        names: list[str] = []  # in the frame they come from (the encoder reads by position)
        fills: list[tuple[str, int] | None] = []
        for name, item, fill in zip(frame.columns, frame.items, imputed, strict=True):
            if item.pending is not None and item.pending.kind == "fillna":
                fill = (str(item.pending.options["value"]), MISSING_ANY)  # None, NaN, pd.NA
                item = item.pending.source
            owner = item.ssa.owner if string_column(item) is not None else None  # type: ignore[union-attr]
            if not isinstance(owner, SelectColumnsOp) or len(owner.columns.data) != 1:
                raise Unsupported(f"column {name!r} is not a str column of the frame")
            sources.append(owner.frame)
            names.append(owner.columns.data[0].data)
            fills.append(fill)
        if len(set(sources)) != 1 or len(set(names)) != len(names):
            raise Unsupported("the str columns are not distinct columns of one frame")
        select = self.tracer.emit(SelectColumnsOp(sources[0], names))
        filled = any(i.pending is not None for i in frame.items)
        filler = " and ".join(["fillna"] * filled + ["SimpleImputer"] * (imputer is not None))
        data = frame.value if imputer is None else imputer.transform(frame.value)
        return self.tracer.estimators.filled_transform(est, select.result, data, fills, filler)

    def part(self, frame: Val, names: list[str], scalar: bool) -> Val:
        """Columns ``names`` of an assembled frame, as a ColumnTransformer part reads them:
        one str column (``scalar``: a text vectorizer's 1-D column) or an assembled frame."""
        value = frame.value[names[0] if scalar else names]  # type: ignore[index]
        if not scalar:
            return self.select(frame, names, value)
        item = self._item(frame, names[0])
        if string_column(item) is None or (item.pending is not None
                                           and item.pending.kind != "fillna"):  # fmt: skip
            raise Unsupported(f"column {names[0]!r} is not a column of str")
        return Val(value, item.ssa)

    def resolved(self, frame: Val) -> Val:
        """An assembled frame as one native value, standing for its DataFrame: the f64
        matrix of numeric columns, or a frame of str columns (those of one frame, or one
        column, filled or not); ``Unsupported`` for anything else (mixed kinds, str columns
        of several frames)."""
        frame = self.tracer.nullable.native_items(frame)
        assert frame.columns is not None and frame.items is not None
        self.tracer.vocab.check_stable(frame.items, "a transformer")
        if all(_vector(item) for item in frame.items):
            dtype = np.float32 if narrow_floats(frame.value) else np.float64
            value = frame.value.to_numpy(dtype=dtype)  # type: ignore[union-attr]
            return Val(frame.value, self.matrix(frame, value).ssa)
        columns = []
        for name, item in zip(frame.columns, frame.items, strict=True):
            native = item.pending is None or item.pending.kind == "fillna"  # str_fill's
            column = string_column(item) if native else None
            if column is None or column[1] != name:
                raise Unsupported(f"column {name!r} is neither numeric nor a str column of "
                                  "the frame it is read from")  # fmt: skip
            columns.append(column[0])
        if len(columns) == 1:
            return Val(frame.value, columns[0])
        owners = [column.owner for column in columns]
        sources = {o.frame for o in owners if isinstance(o, SelectColumnsOp)}
        if len(sources) != 1 or not all(isinstance(o, SelectColumnsOp) for o in owners):
            raise Unsupported("the str columns do not all come from one frame")
        select = self.tracer.emit(SelectColumnsOp(sources.pop(), frame.columns))
        return Val(frame.value, select.result)

    def materialize(self, frame: Val) -> Val:
        """The pandas DataFrame of an assembled frame, built in Python around its columns."""
        assert frame.columns is not None and frame.items is not None
        self.tracer.vocab.check_stable(frame.items, "a DataFrame in Python")
        names = list(frame.columns)
        carried = any(
            isinstance(item.value, pd.Series) and same_index(item.value.index, frame.value.index)  # type: ignore[union-attr]
            for item in frame.items
        )
        if not carried and frame.index_of is None:
            raise Unsupported("no column of the assembled frame carries its index")
        # else it is built on a frame's index (``pd.DataFrame(index=df.index)``): that frame
        # is the last operand
        from willump_mlir.selfcheck import difference  # selfcheck imports the frontend

        labels = frame.value.columns  # type: ignore[union-attr]  # its dtype and name too

        def build(*columns: object) -> pd.DataFrame:
            index = None if carried else columns[-1].index  # type: ignore[attr-defined]
            columns = columns if carried else columns[:-1]
            built = pd.DataFrame(dict(zip(range(len(names)), columns, strict=True)),
                                 index=index, copy=False)  # fmt: skip
            built.columns = labels
            return built

        sources = [] if carried or frame.index_of is None else [frame.index_of]
        found = difference(frame.value, build(*[i.value for i in [*frame.items, *sources]]))
        if found is not None:
            raise Unsupported(f"the assembled frame cannot be rebuilt in Python: {found}")
        items = [self.tracer.materialize(item) for item in frame.items] + sources
        described = ", ".join(f"{n!r}: ..." for n in names)
        return self.tracer.python_op(
            "frame", build, items, "a DataFrame assembled from native columns is built for "
            "the Python code that reads it", f"pd.DataFrame({{{described}}})", wraps=True,
        )  # fmt: skip
