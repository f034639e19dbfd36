"""Why common pandas calls that the frontend does not compile run in Python: the reason
``explain()`` gives for them, where it would otherwise say only "not a recognised function".

Native code computes each row of a batch from that row alone, in blocks of rows (one per
thread), and a value it reads has the example's dtype. Methods that read other rows in the
batch's order (``shift``, ``diff``, ``ffill``), that rank or number the batch's values
(``rank``, ``factorize``) or whose columns or categories the batch's values decide
(``select_dtypes`` of a frame Python made, ``astype("category").cat``) are the
original's, per batch; string
methods that case words by Unicode's rules (``title``) or pad to a width (``zfill``) make
new strings no compiled op writes.
"""

from __future__ import annotations

import pandas as pd
from pandas.core.arrays.categorical import CategoricalAccessor
from pandas.core.strings.accessor import StringMethods

_ORDER = ("reads other rows of the batch in its order, where native code computes each row "
          "from that row alone")  # fmt: skip
#: Series and DataFrame methods, by name.
_FRAME_METHODS = {
    **dict.fromkeys(("shift", "diff", "pct_change"), _ORDER),
    **dict.fromkeys(("ffill", "bfill", "interpolate"), _ORDER),
    **dict.fromkeys(("cumsum", "cumprod", "cummax", "cummin", "rolling", "expanding", "ewm"),
                    _ORDER),
    "rank": "ranks each value among the batch's values (a sort of the whole batch)",
    "factorize": "numbers the values in the order they first appear in the batch, so the "
    "codes depend on the batch",
    "select_dtypes": "the batch's dtypes choose the columns at run time, where native code "
    "reads the columns of the example by name",
}  # fmt: skip
_CASE = "Unicode word casing (title, capitalize, swapcase, casefold) is not compiled: only "\
    "lower and upper are"  # fmt: skip
_PAD = "padding to a width (a new string per value) is not compiled"
#: ``Series.str`` methods, by name.
_STRING_METHODS = {
    **dict.fromkeys(("title", "capitalize", "swapcase", "casefold"), _CASE),
    **dict.fromkeys(("zfill", "pad", "center", "ljust", "rjust"), _PAD),
}
#: ``Series.cat`` attributes and methods, by name.
_CATEGORY = ("the categories of a column the frontend does not hold natively (astype("
             "'category') takes the batch's own sorted values, so its codes depend on the "
             "batch) are not compiled: astype(CategoricalDtype(fitted)) is")  # fmt: skip
#: Functions, by object.
_FUNCTIONS = {pd.factorize: _FRAME_METHODS["factorize"]}


def why_in_python(owner: object, name: str | None, function: object = None) -> str | None:
    """Why ``owner.name(...)`` (or ``function(...)``) runs in Python; None if it is not one
    of the calls named here."""
    if any(function is f for f in _FUNCTIONS):
        return f"{getattr(function, '__name__', name)}: {_FUNCTIONS[function]}"
    if name is None:
        return None
    if isinstance(owner, pd.Series | pd.DataFrame) and name in _FRAME_METHODS:
        return f"{name}: {_FRAME_METHODS[name]}"
    if isinstance(owner, StringMethods) and name in _STRING_METHODS:
        return _STRING_METHODS[name]
    if isinstance(owner, CategoricalAccessor) or name == "cat" and isinstance(owner, pd.Series):
        return _CATEGORY
    return None
