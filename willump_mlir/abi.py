"""The kernel ABI: the values native kernels and the Python around them agree on.

A leaf module (it imports nothing from willump_mlir), so the frontend (which builds the
tables and markers), the passes (which emit the kernels) and the runtime (which calls them
and reads their results) all take these from one place and no layer imports another's
internals. Everything here is visible in the bytes a kernel reads or writes:

* ``ErrorKind``: what a kernel writes to slot 0 of its ``err`` argument (an ``i64`` buffer
  ``[kind, row, site]``; ``site`` keys the plan's ``errors``).
* ``MISSING_*``: the per-row missing flags of a str column and the markers encodings match.
* the hash constants term and lookup tables are built and probed with.
* ``KernelInputSpec`` / ``KernelOutputSpec``: the records (``willump.inputs`` /
  ``willump.outputs`` of a kernel ``func.func``, stored in the plan) describing its buffers.
* ``ROW_HANDOFFS``: why a kernel hands a row back to Python, one bit of its ``python_rows``
  byte each (the output's ``reasons`` list the bits in order).
* ``ufunc_loop_symbol``: the external symbols through which a kernel calls numpy's own inner
  loop of a ufunc, which the runtime binds to the process's numpy at load time.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, NotRequired, TypedDict


class ErrorKind(IntEnum):
    """Error kinds a kernel records in its ``err`` buffer; the runtime raises for them."""

    NAN = 1
    INFINITE = 2
    UNKNOWN_CATEGORY = 3
    NOT_TEXT = 4
    CAST_NON_FINITE = 5  # a NaN or infinite value cast to an integer (pandas refuses it)
    NOT_INTEGER = 6  # a speculative cast met a value pandas keeps as float: run the original
    NOT_A_DATE = 7  # a date native code does not read as pandas would: run the original
    SIGNED_ZERO = 8  # fmax/fmin of 0.0 and -0.0: numpy keeps either by the row's place
    LINEAR_MAGNITUDE = 9  # a linear model's sum may overflow in BLAS's order: run the original


# pandas' nullable dtypes native code computes on, as float64 with one NaN for NaN and pd.NA
# (an ``Int32`` result beyond the int32 range, which pandas wraps, runs the original; a
# ``Float32`` one is computed in float32), and the pandas option under which a NaN result of
# their arithmetic stays NaN, not pd.NA.
NULLABLE_COMPUTED = ("Int64", "Int32", "Int16", "Int8", "Float64", "Float32", "boolean")
DISTINGUISH_NAN = "future.distinguish_nan_and_na"

# The missing flags a string column carries per row (0: a string).
MISSING_NONE = 1
MISSING_NAN = 2
# An encoding's marker is a set of those flags: MISSING_ANY matches None and NaN alike.
MISSING_ANY = MISSING_NONE | MISSING_NAN

# FNV-1a 64: string tables hash UTF-8 bytes, text term tables hash code points.
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3

# Keys of text term tables (``text_tables.term_key``): a short term is its own key, its
# code points (each plus one) packed KEY_BITS apiece under a tag: up to three code points
# below 2^20 - 1 (tag EXACT_KEY), or four below 2^15 - 1 (tag EXACT_KEY4); exact keys are
# negative as int64. Any other term's key is its FNV-1a hash with bits 62 and 63 clear.
# GOLDEN spreads keys over the slots (multiplicative hashing).
KEY_BITS = (20, 15)  # bits per code point in a key of up to 3 / exactly 4 code points
EXACT_KEY = 0b10 << 62
EXACT_KEY4 = 0b11 << 62
HASHED_KEY_MASK = (1 << 62) - 1
GOLDEN = 0x9E3779B97F4A7C15


def signed64(bits: int) -> int:
    """The unsigned 64-bit constant ``bits`` as the ``i64`` with the same bits."""
    return bits - (1 << 64) if bits >= 1 << 63 else bits


# region Kernel arguments

#: Buffer element types by name (``i1`` is a byte per value).
DtypeName = Literal["f64", "f32", "i64", "i32", "i8", "i1"]


class ScratchSizeSpec(TypedDict):
    """Elements of a scratch buffer: ``fixed``, plus ``per_byte`` times the longest row
    (in UTF-8 bytes) of ``column`` of ``value``, and so on for each ``(per_byte, value,
    column)`` of ``more``."""

    fixed: int
    per_byte: NotRequired[int]
    value: NotRequired[str]
    column: NotRequired[str]
    more: NotRequired[list[tuple[int, str, str]]]


class KernelInputSpec(TypedDict):
    """One input buffer argument of a kernel (after ``rows`` and ``err``)."""

    value: str  # the SSA value (or scratch buffer) it comes from
    #: what the buffer holds: ``values`` (of a column or a matrix), a str column's ``bytes``,
    #: ``offsets`` and ``missing`` flags, a datetime column's ticks (``M8[ns]``...), a CSR
    #: matrix's ``indptr``, ``indices`` and ``data``, a batch reduction's ``scalar``, or
    #: ``scratch`` memory the runtime allocates zeroed
    part: str
    dtype: DtypeName
    column: NotRequired[str]  # a frame's column; else ``width`` values per row
    width: NotRequired[int]
    text: NotRequired[int]  # 1: a text column, whose rows with lone surrogates run in Python
    size: NotRequired[ScratchSizeSpec]  # a scratch buffer's size


class KernelOutputSpec(TypedDict):
    """One result of a kernel: rows of ``shape`` (one buffer), a CSR matrix (``sparse``:
    indptr, indices, data and their capacity) or a str column (``string``: offsets, missing
    flags, bytes and their capacity)."""

    value: str
    width: int
    dtype: DtypeName
    shape: list[int]
    sparse: NotRequired[int]
    scalar: NotRequired[str]  # a batch reduction's one value: the reduction (``mean``...)
    string: NotRequired[str]  # a str column: its name, and the column it takes index and
    like: NotRequired[str]  # dtype from (``like``, ``like_column``)
    like_column: NotRequired[str]
    #: the (value, column) pairs, in order, whose first pandas ``str`` dtype is the column's
    #: (object if none is): a concatenation, or split pieces (object whatever their column)
    dtype_from: NotRequired[list[list[str]]]
    role: NotRequired[Literal["python_rows"]]  # the rows flagged to run in Python
    #: ``python_rows``: the reason (a ``ROW_HANDOFFS`` key) of each bit of a row's flag byte
    #: (absent in a program compiled before flags had reasons: one flag, any reason)
    reasons: NotRequired[list[str]]


# endregion
# region Handoffs to Python

#: Why a kernel hands a row back to Python (the original function computes that row), by
#: the key a kernel's ``python_rows`` output lists. A kernel has at most 8 (one bit each).
ROW_HANDOFFS = {
    "text-context": "its text has a character whose lowercase depends on the letters around "
    "it (a capital sigma) or that is no Unicode scalar value (a lone surrogate)",
    "term-count": "a term occurs more often than the sublinear_tf log table covers",
    "str-case": "a .str case transform meets a character whose mapping depends on its "
    "neighbours (a capital sigma) or on the column's dtype (object or pyarrow str)",
    "str-casefold": "contains(..., case=False) meets non-ASCII text (Unicode case folding)",
    "str-missing": "a .str predicate without na= meets a missing value (pandas gives NaN, "
    "an object result)",
    "str-int": "astype(int) of a string that is not 1 to 18 ASCII digits (a sign, spaces, "
    "a missing value: pandas reads or refuses it)",
    "split-missing": "a .str.split() piece meets a missing value (pandas refuses .str of the "
    "lists of a batch whose every value is missing: the original runs on the batch)",
    "str-position": "no row of the batch has an .str[i] piece (a value with a position i): "
    "pandas gives an object column's pieces then as float64, whose .str it refuses (the "
    "original runs on the batch)",
    "cut-edges": "pd.cut into a number of bins meets a batch whose edges pandas refuses or "
    "does not make increasing (an infinite or no value, a range too small to split: the "
    "original runs on the batch)",
    "lookup-miss": "a key is missing from a .loc lookup table (pandas raises KeyError)",
    "imputer-nan": "SimpleImputer(missing_values=None) meets NaN in a str column (scikit-learn "
    "raises ValueError)",
    "linear-range": "a TF-IDF row tallied into a linear model has finite weights whose sums "
    "overflow (idf or coefficients near the float64 range)",
    "linear-tie": "a row's linear classifier decision values are within 1e-6 of a tie "
    "(binary: of zero), where the kernel's sum and BLAS's may round to different labels "
    "(BLAS rounds a row by the batch's size and layout: the original runs on the batch)",
}
#: Reasons whose row the original computes on the whole batch only: BLAS rounds a row's
#: ``X @ coef_.T`` by the batch's size and layout, so the row alone may take another label;
#: pandas' ``.str`` of split lists fails for a batch of missing values only; ``pd.cut``'s
#: edges are the batch's.
BATCH_ROW_HANDOFFS = frozenset({"linear-tie", "split-missing", "cut-edges", "str-position"})
#: Batch reasons that hand the batch back only when they flag every row: ``s.str[i]`` of an
#: object column is float64 (all NaN) when no row has position ``i``, else objects, which
#: native code gives; a row flagged while others are not is native's.
EVERY_ROW_HANDOFFS = frozenset({"str-position"})



# region numpy's inner loops

#: The ufuncs a kernel may compute with numpy's own inner loop (``feature.ufunc``): those
#: numpy computes with its own routines (SIMD ones on some CPUs), which the C library's
#: functions do not reproduce bit for bit.
UFUNC_LOOPS = (
    "log1p", "log", "exp", "expm1", "tanh", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2", "cbrt", "power",
    "arctan2",
)  # fmt: skip
#: The element types of those loops: numpy's ``d`` and ``f`` loops.
UFUNC_LOOP_DTYPES = ("f64", "f32")
UFUNC_LOOP_PREFIX = "numpy.ufunc."
UFUNC_DATA_SUFFIX = ".data"


def ufunc_loop_symbol(function: str, dtype: str) -> str:
    """The external function symbol of numpy's inner loop of ufunc ``function`` for
    ``dtype`` (``numpy.ufunc.log1p.f64``), a ``PyUFuncGenericFunction``: ``void (char **args,
    npy_intp const *dimensions, npy_intp const *steps, void *data)``; its ``data`` argument is
    the pointer stored at the symbol plus :data:`UFUNC_DATA_SUFFIX`."""
    if function not in UFUNC_LOOPS or dtype not in UFUNC_LOOP_DTYPES:
        raise ValueError(f"no numpy loop symbol for {function!r} of {dtype!r}")
    return f"{UFUNC_LOOP_PREFIX}{function}.{dtype}"


def parse_ufunc_loop_symbol(symbol: str) -> tuple[str, str, bool] | None:
    """``(function, dtype, is_data)`` of a symbol :func:`ufunc_loop_symbol` names (or its
    data pointer); None for any other name."""
    if not symbol.startswith(UFUNC_LOOP_PREFIX):
        return None
    data = symbol.endswith(UFUNC_DATA_SUFFIX)
    name = symbol[len(UFUNC_LOOP_PREFIX) : -len(UFUNC_DATA_SUFFIX) if data else None]
    function, _, dtype = name.partition(".")
    if function not in UFUNC_LOOPS or dtype not in UFUNC_LOOP_DTYPES:
        return None
    return function, dtype, data


# endregion
