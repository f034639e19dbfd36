"""pandas category columns read by LightGBM and HistGradientBoosting, natively.

``pd.Categorical(s, categories=C)``, ``s.astype(pd.CategoricalDtype(C))`` and
``s.astype("category")`` of a native column ``s`` (str, or numbers) are traced as a
:class:`~willump_mlir.frontend.values.Category`: the source column and the categories,
static. A frame holding such columns (``X["c"] = ...``, ``frontend.frames``) is read by a
model as an f64 matrix in which each category column is the *code* the model maps it to at
predict time, computed natively from the source's values (``feature.encode_strings`` or
``feature.lookup_keys`` against the model's categories, then a ``feature.gather_rows`` of
the code): the tree ensemble then reads the codes as it does its own.

What the libraries do, which the codes reproduce by value:

* LightGBM re-codes each category column by the categories it saw at fit
  (``Booster.pandas_categorical``, one list per category column in order):
  ``set_categories(fitted).cat.codes``, -1 (a value outside them, or missing) as NaN. A
  booster without ``pandas_categorical`` (fitted on arrays) takes the column's own codes,
  which are static only when the categories are given.
* HistGradientBoosting (``categorical_features="from_dtype"``) passes its categorical
  columns through an ``OrdinalEncoder`` fitted on the training values: the position of the
  value among ``categories_``, NaN for a value outside them or missing.

Either way a value the column's own categories do not hold is missing before the model
sees it. Anything else (another model, a category column of a DataFrame argument, whose
categories are known only at run time) runs in Python as before.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import f64

from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import FrameType, StrType, TakeColumnOp

from .boosters import library
from .spec import Unsupported
from .types import column_kind
from .values import Category, Val

if TYPE_CHECKING:
    from .tracer import Tracer

_HISTOGRAM = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


def _static_categories(categories: object) -> list | None:
    """The categories as a list of str or of real numbers; Unsupported otherwise."""
    if categories is None:
        return None
    values = list(categories)  # type: ignore[call-overload]
    text = all(isinstance(v, str) for v in values)
    numbers = all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values
    )
    if not values or not (text or numbers):
        raise Unsupported("only categories that are all str or all numbers are compiled")
    return values


def model_categories(est: object, frame: pd.DataFrame, items: list[Val]) -> list[list]:
    """The categories whose positions ``est`` reads for each category column of ``frame``
    (columns ``items``), in column order; Unsupported if ``est`` is not a model that reads
    them so."""
    positions = [i for i, item in enumerate(items) if item.category is not None]
    name = type(est).__name__
    if library(est) == "lightgbm":
        fitted = getattr(getattr(est, "booster_", est), "pandas_categorical", None)
        if fitted is None:  # fitted on arrays: the column's own codes
            known = [items[i].category.categories for i in positions]  # type: ignore[union-attr]
            if any(k is None for k in known):
                raise Unsupported(f"{name} reads the codes of the column's own categories, "
                                  "known only at run time")  # fmt: skip
            return known  # type: ignore[return-value]
        if len(fitted) != len(positions):
            raise Unsupported(f"{name} was fitted on {len(fitted)} category columns, got "
                              f"{len(positions)} (LightGBM raises)")  # fmt: skip
        return [list(k) for k in fitted]
    if name in _HISTOGRAM and type(est).__module__.startswith("sklearn."):
        preprocessor = getattr(est, "_preprocessor", None)
        mask = getattr(est, "is_categorical_", None)
        categorical = np.flatnonzero(mask) if mask is not None else np.zeros(0, np.int64)
        if preprocessor is None or not set(positions) <= set(categorical.tolist()):
            raise Unsupported(f"{name} does not treat every category column as categorical")
        encoder = preprocessor.named_transformers_["encoder"]
        by_column = dict(zip(categorical.tolist(), encoder.categories_, strict=True))
        known = []
        for i in positions:
            fitted = list(by_column[i])
            if fitted and isinstance(fitted[-1], float) and np.isnan(fitted[-1]):
                fitted = fitted[:-1]  # missing at fit: encoded as NaN all the same
            known.append(fitted)
        return known
    raise Unsupported(f"{name} does not read pandas category columns natively")


class CategoryColumns:
    """Traces category columns and codes them for a model, for one ``Tracer``."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val | None,
             function: object, args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``pd.Categorical(s[, categories=C])`` or ``s.astype(CategoricalDtype(C) |
        "category")`` of a native column; None for other calls."""
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if function is pd.Categorical:
            if len(args) != 1 or set(kwargs) - {"categories"}:
                return None
            source, given = args[0], kwargs.get("categories", Val(None))
            if not given.is_static:
                return None
            categories = given.value

            def build(s: object) -> object:
                return pd.Categorical(s, categories=categories)

        elif (
            receiver is not None
            and not receiver.is_static
            and attr == "astype"
            and (len(args) == 1 and not kwargs)
        ):
            dtype = args[0].value
            category = isinstance(dtype, str) and dtype == "category"
            if not args[0].is_static or not (category or isinstance(dtype, pd.CategoricalDtype)):
                return None
            source, categories = receiver, getattr(dtype, "categories", None)

            def build(s: object) -> object:
                return s.astype(dtype)  # type: ignore[attr-defined]

        else:
            return None
        value = self.tracer.evaluate(node, pieces)
        return self.column(source, _static_categories(categories), build, value,
                           ast.unparse(node))  # fmt: skip

    def column(self, source: Val, categories: list | None, build: object, value: object,
               text: str) -> Val:  # fmt: skip
        """The category column ``value`` that ``build`` makes of ``source``."""
        series = source.value
        typ = source.ssa.type if source.ssa is not None else None
        if not isinstance(series, pd.Series) or source.columns is not None or typ is None:
            raise Unsupported("the categorical's source is not a native column")
        kind = column_kind(series)
        if kind == "str" and not (isinstance(typ, FrameType) and len(typ.columns) == 1):
            raise Unsupported("the categorical's source is not a column of str")
        if kind != "str" and (kind != "f64" or isinstance(typ, FrameType)):
            raise Unsupported("the categorical's source is not a column of str or numbers")
        if not isinstance(getattr(value, "dtype", None), pd.CategoricalDtype):
            raise Unsupported("the result is not categorical")
        rebuilt = build(series)  # type: ignore[operator]
        if type(rebuilt) is not type(value) or not rebuilt.equals(value):  # type: ignore[attr-defined]
            raise Unsupported("the categorical cannot be rebuilt from its source")
        return Val(value, category=Category(source, categories, build, text))  # type: ignore[arg-type]

    def materialize(self, val: Val) -> Val:
        """The categorical column, built in Python from its native source."""
        assert val.category is not None
        category = val.category
        return self.tracer.python_op(
            "categorical", category.build, [self.tracer.materialize(category.source)],
            "a pandas categorical column is built for the Python code that reads it",
            category.text, wraps=True,
        )  # fmt: skip

    def codes(self, val: Val, known: list) -> Val:
        """The native f64 column of the position in ``known`` of each value of the category
        column ``val`` (NaN: not among them, or not among the column's own categories)."""
        assert val.category is not None
        source, own = val.category.source, val.category.categories
        usable = [k for k in known if own is None or k in own]
        if not usable:
            raise Unsupported("no category the model knows can occur in the column")
        lookups = self.tracer.lookups
        typ = source.ssa.type  # type: ignore[union-attr]
        column = typ.columns[0][0] if isinstance(typ, FrameType) else None
        if isinstance(typ, FrameType) and not isinstance(typ.columns[0][1], StrType):
            raise Unsupported("the categorical's source is not a column of str")
        keys = pd.Series(usable, dtype=object if isinstance(usable[0], str) else np.float64)
        rows = lookups.encode_column(source, column, keys)
        position = np.array([[float(known.index(k))] for k in usable])
        gathered = self.tracer.emit(
            feature.GatherRowsOp(rows, self.tracer.blobs.add("category_codes", position))
        )
        take = self.tracer.emit(TakeColumnOp(gathered.results[0], 0))
        assert take.result.type.get_element_type() == f64  # type: ignore[attr-defined]
        values = np.asarray(val.value, dtype=object)
        example = pd.Categorical(values, categories=known).codes.astype(np.float64)
        return Val(np.where(example < 0, np.nan, example), take.result)
