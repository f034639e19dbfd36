"""String transforms of str columns (``Series.str`` methods and ``+``), natively.

A str column is a one-column ``!pipeline.frame`` of ``!pipeline.str`` (``df["c"]``); a
transform's result is one too, with the same (UTF-8 bytes, offsets, missing) representation,
so every consumer of a str column reads it unchanged. Recognised, with pandas' semantics:

- ``s.str.lower()/upper()`` (Python's full case mapping: ``'ß'.upper() == 'SS'``; a row with
  a capital sigma, whose lowercase depends on its neighbours, runs in Python),
  ``s.str.strip/lstrip/rstrip(chars=None)``, ``s.str[i]``, ``s.str.get(i)``,
  ``s.str[a:b]``, ``s.str.slice(a, b)``, and ``s1 + " " + s2`` / ``"x" + s``: a missing
  value stays missing (NaN where pandas makes one);
- ``s.str.len()`` where the example has no missing value: int64 (a missing value at run
  time, which makes pandas' result float64, runs the original function); with missing
  values on the example, float64 with NaN where only a model or a transformer reads it
  (pandas gives int64 for a batch without one: :func:`check_lengths`);
- ``s.str.split().str[k]`` / ``s.str.split(",").str.get(k)`` (one ASCII separator): piece
  ``k`` of each value (negative from the end), NaN where it has none; a missing value at
  run time runs the original on the batch (pandas refuses ``.str`` of the lists of a batch
  whose every value is missing);
- ``s.astype(int)`` of values of 1 to 18 ASCII digits (``s.str[0].astype(int)``); any
  other value runs its row in Python, where pandas reads or refuses it;
- ``s.str.replace(lit, text)`` (``regex=False``, or no regex metacharacters): every
  occurrence, a missing value kept;
- ``s.str.count(lit)`` (no regex metacharacters), ``s.str.find(lit)``, ``s.str.rfind(lit)``
  of a non-empty literal, typed as ``s.str.len()`` is;
- ``s.str.contains(lit)`` (``regex=False``, or a pattern without regex metacharacters),
  ``startswith(lit)``, ``endswith(lit)``, giving bool (``contains(lit, case=False)`` of an
  ASCII pattern: a row that is not all ASCII runs in Python): a missing value gives
  ``na``; without ``na=`` its row runs in Python (pandas gives False for its ``str`` dtype
  and NaN, an object result, for an object column, and the dtype may differ at run time).

Anything else (regexes, tuples of prefixes, a
result pandas gives as object with NaN on the example) runs in Python. A transformed column
returned or read by Python code is a kernel output (UTF-8 bytes, offsets, missing flags)
made a pandas column of its source's dtype and index; one a native op reads that only
reads frame arguments is recomputed by pandas (:func:`materialize_strings`), and so is an
``s.str[i]`` that Python code reads or the function returns (of an object column where no
row has position ``i``, pandas gives float64 NaN, not objects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.core.strings.accessor import StringMethods
from xdsl.dialects import func
from xdsl.dialects.builtin import i64
from xdsl.ir import Operation, SSAValue

from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import (
    STRING_OPS,
    CastOp,
    FrameType,
    PredictOp,
    PythonCallOp,
    StrCaseOp,
    StrConcatOp,
    StrLenOp,
    StrMatchOp,
    StrReplaceOp,
    StrSearchOp,
    StrSliceOp,
    StrSplitCountOp,
    StrSplitPieceOp,
    StrStripOp,
    StrToIntOp,
    StrType,
    TransformOp,
    attr_text,
    python_call_stages,
    string_column,
)

from . import text_tables
from .fallback import PythonFunction, check_aligned
from .spec import PythonCall, Unsupported
from .types import column_kind
from .values import Pending, Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: Characters with a meaning in a regular expression: a pattern without them is a literal.
REGEX_METACHARACTERS = frozenset(".^$*+?{}[]\\|()")
#: Ops that read a transformed column inside native code; any other use needs it in Python.
NATIVE_READERS = (
    *STRING_OPS, StrLenOp, StrSplitCountOp, StrSearchOp, StrMatchOp, StrToIntOp,
    feature.EncodeStringsOp, feature.DecodeTextOp,
    TransformOp,  # a vectorizer's or encoder's: feature.decode_text / encode_strings
)


def is_accessor(val: Val) -> bool:
    """``s.str`` of a native str column (not of a Series Python computed: ``.str`` of
    ``s.str.split()``'s lists is a ``!pipeline.object``)."""
    return isinstance(val.value, StringMethods) and _one_str_column(val)


def _one_str_column(val: Val) -> bool:
    """Whether ``val``'s IR value is a frame of one str column."""
    typ = val.ssa.type if val.ssa is not None else None
    return isinstance(typ, FrameType) and len(typ.names.data) == 1 \
        and isinstance(typ.dtypes.data[0], StrType)  # fmt: skip


def _encodes(text: str) -> bool:
    """Whether ``text`` is UTF-8 (no lone surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _str_column(val: Val) -> bool:
    """A native column of str (missing values allowed)."""
    return isinstance(val.value, pd.Series) and _one_str_column(val) \
        and column_kind(val.value) == "str"  # fmt: skip


def _of_piece(value: SSAValue) -> bool:
    """Whether the str column ``value`` is made of a ``s.str.split().str[k]`` piece."""
    owner = value.owner
    if isinstance(owner, StrSplitPieceOp):
        return True
    return isinstance(owner, STRING_OPS) and any(_of_piece(v) for v in owner.operands)


def _index(val: Val | None) -> int | None:
    if val is None or val.value is None:
        return None
    number = val.value
    if not val.is_static or isinstance(number, bool) or not isinstance(number, int | np.integer):
        raise Unsupported("a string position must be a constant integer")
    return int(val.value)


class StringColumns:
    """The tracer's string transforms (see the module docstring)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer
        #: how pandas recomputes each transform from its inputs' Series, and its source text
        self.recompute: dict[SSAValue, tuple[Callable[..., pd.Series], str]] = {}
        #: float64 lengths of columns with missing values (their dtype depends on the batch)
        self.lengths: list[SSAValue] = []

    def accessor(self, base: Val, value: object) -> Val | None:
        """``s.str`` of a native str column: the accessor, with the column's IR value; of
        ``s.str.split(...)`` kept as its column, pending too (``pieces``)."""
        if base.pending is not None and base.pending.kind == "split" \
                and isinstance(value, StringMethods):  # fmt: skip
            return Val(value, pending=Pending("split_str", base, {}, lambda s: s.str,
                                              base.pending.text + ".str", base.pending.reason))
        if not _str_column(base) or not isinstance(value, StringMethods):
            return None
        if _of_piece(base.ssa):  # type: ignore[arg-type]
            raise Unsupported(".str of a split piece runs in Python: pandas gives float64 NaN "
                              "where no value has the piece, whose .str raises")  # fmt: skip
        return Val(value, base.ssa)

    def _column(self, op: object, value: object, recompute: Callable[..., pd.Series],
                source: str) -> Val:  # fmt: skip
        """Emit a transform ``op`` (of the code ``source``) whose example result is ``value``."""
        if not isinstance(value, pd.Series) or column_kind(value) != "str":
            raise Unsupported("the result is not a column of str")
        result = self.tracer.emit(op).results[0]  # type: ignore[arg-type]
        self.recompute[result] = (recompute, source)
        return Val(value, result)

    def call(self, receiver: Val, attr: str | None, args: list[Val], kwargs: dict[str, Val],
             value: object, source: str) -> Val | None:  # fmt: skip
        """``s.str.<attr>(...)`` of a native str column; None if not recognised."""
        if not all(a.is_static for a in [*args, *kwargs.values()]):
            return None
        column = receiver.ssa
        assert column is not None
        given = [a.value for a in args]
        keywords = {k: v.value for k, v in kwargs.items()}
        if attr in ("lower", "upper") and not given and not keywords:
            # pandas' pyarrow-backed str dtype cases code points as pyarrow does, an object
            # column as Python does; the batch may have either dtype: rows with a code point
            # they case differently run in Python
            tables = text_tables.char_map(attr == "lower", None, attr == "upper", None)
            blobs = self.tracer.blobs
            char_map = [blobs.add("str_case_index", tables.index),
                        blobs.add("str_case_blocks", tables.blocks),
                        blobs.add("str_case_sequences", tables.sequences)]  # fmt: skip
            # a code point becomes at most max_expansion code points per UTF-8 byte of it,
            # each of at most 4 bytes
            op = StrCaseOp(attr, column, char_map, 4 * tables.max_expansion)
            method = attr
            return self._column(op, value, lambda s: getattr(s.str, method)(), source)
        if attr in ("strip", "lstrip", "rstrip"):
            bound = dict(zip(["to_strip"], given, strict=False)) | keywords
            if len(given) > 1 or set(bound) - {"to_strip"}:
                return None
            chars = bound.get("to_strip")
            if chars is not None and not isinstance(chars, str):
                return None
            side = {"strip": "both", "lstrip": "left", "rstrip": "right"}[attr]
            method = attr
            return self._column(StrStripOp(side, column, chars), value,
                                lambda s: getattr(s.str, method)(chars), source)  # fmt: skip
        if attr == "get" and len(args) == 1 and not kwargs:
            return self.subscript(receiver, given[0], value, source)
        if attr == "slice":
            bound = dict(zip(["start", "stop", "step"], given, strict=False)) | keywords
            if len(given) > 3 or set(bound) - {"start", "stop", "step"}:
                return None
            key = slice(bound.get("start"), bound.get("stop"), bound.get("step"))
            return self.subscript(receiver, key, value, source)
        if attr == "len" and not given and not keywords:
            return self._length(column, value)
        if attr == "split":
            return self._split(receiver, given, keywords, value, source)
        if attr in ("contains", "startswith", "endswith"):
            return self._match(receiver, attr, given, keywords, value)
        if attr in ("count", "find", "rfind"):
            return self._search(column, attr, given, keywords, value)
        if attr == "replace":
            return self._replace(column, given, keywords, value, source)
        return None

    def _replace(self, column: SSAValue, given: list, keywords: dict, value: object,
                 source: str) -> Val | None:  # fmt: skip
        """``s.str.replace(pat, repl)`` of a non-empty literal ``pat`` (``regex=False``, or
        without regex metacharacters and a ``repl`` without escapes) and a str ``repl``:
        every occurrence (``pipeline.str_replace``)."""
        names = ["pat", "repl", "n", "case", "flags", "regex"]
        if len(given) > len(names) or set(keywords) - set(names[len(given) :]):
            return None
        bound = dict(zip(names, given, strict=False)) | keywords
        old, new = bound.get("pat"), bound.get("repl")
        if not isinstance(old, str) or not isinstance(new, str):
            raise Unsupported("str.replace of a compiled pattern or with a function is not "
                              "compiled")  # fmt: skip
        if bound.get("n", -1) != -1 or bound.get("case") not in (None, True) \
                or bound.get("flags", 0) != 0:  # fmt: skip
            raise Unsupported("str.replace with n, case=False or flags is not compiled")
        if bound.get("regex", False) and (REGEX_METACHARACTERS & set(old) or "\\" in new):
            raise Unsupported("a regular expression is not compiled (only a literal pattern)")
        if not old or not _encodes(old) or not _encodes(new):
            raise Unsupported("str.replace of an empty pattern (or of a lone surrogate) is "
                              "not compiled")  # fmt: skip
        op = StrReplaceOp(column, old, new)
        return self._column(op, value, lambda s: s.str.replace(old, new, regex=False), source)

    def _search(self, column: SSAValue, attr: str, given: list, keywords: dict,
                value: object) -> Val | None:  # fmt: skip
        """``s.str.count(pat)`` (no regex metacharacters), ``s.str.find(sub)`` and
        ``s.str.rfind(sub)`` of a non-empty literal (``pipeline.str_search``): int64, or
        float64 with NaN where the example has a missing value (as ``s.str.len()``)."""
        names = ["pat", "flags"] if attr == "count" else ["sub", "start", "end"]
        if len(given) > len(names) or set(keywords) - set(names[len(given) :]):
            return None
        bound = dict(zip(names, given, strict=False)) | keywords
        pattern = bound.get(names[0])
        if not isinstance(pattern, str):
            return None
        if bound.get("flags", 0) != 0 or bound.get("start", 0) != 0 \
                or bound.get("end") is not None:  # fmt: skip
            raise Unsupported(f"str.{attr} with flags, start or end is not compiled")
        if not pattern or not _encodes(pattern):
            raise Unsupported(f"str.{attr} of an empty pattern (or a lone surrogate) is not "
                              "compiled: pandas' str dtype counts bytes where Python counts "
                              "code points")  # fmt: skip
        if attr == "count" and REGEX_METACHARACTERS & set(pattern):
            raise Unsupported("a regular expression is not compiled (only a literal pattern)")
        return self._length(column, value, lambda c: StrSearchOp(attr, c, pattern))

    def astype(self, receiver: Val, args: list[Val], kwargs: dict[str, Val],
               value: object) -> Val | None:  # fmt: skip
        """``s.astype(int)`` of a native str column (``pipeline.str_to_int``)."""
        if not _str_column(receiver) or len(args) != 1 or kwargs or not args[0].is_static:
            return None
        try:
            dtype = np.dtype(args[0].value)  # type: ignore[call-overload]
        except TypeError:
            return None
        if dtype != np.int64 or not isinstance(value, pd.Series) or value.dtype != np.int64:
            return None
        return self.tracer._checked(StrToIntOp(receiver.ssa), value)  # type: ignore[arg-type]

    def _split(self, receiver: Val, given: list, keywords: dict, value: object,
               source: str) -> Val | None:  # fmt: skip
        """``s.str.split()`` or ``s.str.split(c)`` (one ASCII character), kept as the column
        until ``.str.len()`` counts its pieces natively; pandas makes the lists for any
        other use."""
        bound = dict(zip(["pat", "n", "expand", "regex"], given, strict=False)) | keywords
        sep = bound.get("pat")
        if len(given) > 4 or set(bound) - {"pat", "n", "expand", "regex"} \
                or bound.get("n", -1) not in (None, -1, 0) or bound.get("expand", False) \
                or bound.get("regex") not in (None, False) or not isinstance(value, pd.Series) \
                or not (sep is None or isinstance(sep, str) and len(sep) == 1
                        and sep.isascii()):  # fmt: skip
            return None
        pending = Pending("split", receiver, {"sep": sep}, lambda s: s.split(sep), source,
                          "str.split makes a list per row, a Python object")  # fmt: skip
        return Val(value, pending=pending)

    def pieces(self, accessor: Val, attr: str | None, args: list[Val], kwargs: dict[str, Val],
               value: object) -> Val | None:  # fmt: skip
        """``.str.len()`` of ``s.str.split(...)``: the number of pieces of each value, int64
        (a missing value at run time runs the original, which may raise)."""
        assert accessor.pending is not None
        split = accessor.pending.source.pending
        assert split is not None and split.source.ssa is not None
        if attr == "get" and len(args) == 1 and not kwargs and args[0].is_static:
            text = f"{accessor.pending.text}.get({args[0].value!r})"
            return self.piece(accessor, args[0].value, value, text)
        if attr != "len" or args or kwargs:
            return None
        if not isinstance(value, pd.Series) or value.dtype != np.int64:
            raise Unsupported("with missing values (as on the example) the pieces are counted "
                              "in Python: pandas raises AttributeError for .str of the lists "
                              "of a batch whose every value is missing")  # fmt: skip
        sep = split.options["sep"]
        return self._length(split.source.ssa, value, lambda c: StrSplitCountOp(c, sep))  # type: ignore[arg-type]

    def piece(self, accessor: Val, key: object, value: object, source: str) -> Val | None:
        """``s.str.split(...).str[k]`` (``.str.get(k)``): piece ``k`` of each value, NaN
        where there is none (``pipeline.str_split_piece``); as for ``s.str[i]``, pandas
        recomputes it where Python code reads it (of an object result with no piece ``k``
        anywhere it gives float64 NaN)."""
        assert accessor.pending is not None
        split = accessor.pending.source.pending
        assert split is not None and split.source.ssa is not None
        if isinstance(key, slice):
            return None
        k = _index(Val(key))
        assert k is not None
        sep = split.options["sep"]
        op = StrSplitPieceOp(split.source.ssa, k, sep)  # type: ignore[arg-type]
        return self._column(op, value, lambda s: s.str.split(sep).str[k], source)

    def _length(self, column: SSAValue, value: object,
                counted: Callable[[SSAValue], Operation] = StrLenOp) -> Val | None:
        """``s.str.len()`` (or another count per value, ``counted``) of a str column: f64
        with NaN where the example has a missing value, else int64 (module doc)."""
        if isinstance(value, pd.Series) and value.dtype == np.float64:  # missing values: NaN
            length = self.tracer._checked(counted(column), value)
            self.lengths.append(length.ssa)  # type: ignore[arg-type]
            return length
        if not isinstance(value, pd.Series) or value.dtype != np.int64:
            raise Unsupported("pandas gives int64 lengths, or float64 when the batch has a "
                              "missing value (as on the example), so the dtype depends on "
                              "the rows")  # fmt: skip
        length = self.tracer.emit(counted(column)).results[0]
        # int64: a missing value at run time (NaN: float64) runs the original function
        return self.tracer._checked(CastOp(length, i64, speculative=True), value)

    def _match(self, receiver: Val, attr: str, given: list, keywords: dict,
               value: object) -> Val | None:  # fmt: skip
        names = ["pat", "case", "flags", "na", "regex"] if attr == "contains" else ["pat", "na"]
        if len(given) > len(names) or set(keywords) - set(names[len(given) :]):
            return None
        bound = dict(zip(names, given, strict=False)) | keywords
        pattern = bound.get("pat")
        if not isinstance(pattern, str):
            return None
        case = bound.get("case", True)
        if case not in (True, False) or bound.get("flags", 0) != 0:
            raise Unsupported("only case=True or case=False without flags is compiled")
        if not case and not pattern.isascii():
            raise Unsupported("case=False is compiled for an ASCII pattern only")
        if bound.get("regex", True) and REGEX_METACHARACTERS & set(pattern):
            raise Unsupported("a regular expression is not compiled (only a literal pattern)")
        if not isinstance(value, pd.Series) or value.dtype != np.bool_:
            raise Unsupported(f"pandas gives {getattr(value, 'dtype', type(value))} here, "
                              "not bool")  # fmt: skip
        na = bound.get("na", "default")
        if isinstance(na, bool | np.bool_):
            missing = "true" if na else "false"
        elif na != "default":
            raise Unsupported(f"na={na!r} is not compiled")
        else:  # pandas' str dtype gives False, an object column NaN (an object result):
            missing = "python"  # the row runs in Python, whatever the column's dtype then
        op = StrMatchOp(attr, receiver.ssa, pattern, missing, not case)  # type: ignore[arg-type]
        return self.tracer._checked(op, value)

    def subscript(self, receiver: Val, key: object, value: object, source: str) -> Val | None:
        """``s.str[i]`` / ``s.str[a:b]`` of a native str column."""
        column = receiver.ssa
        assert column is not None
        if isinstance(key, slice):
            if key.step not in (None, 1):
                return None
            start, stop = _index(Val(key.start)), _index(Val(key.stop))
            op = StrSliceOp(column, start, stop, single=False)
            return self._column(op, value, lambda s: s.str[start:stop], source)
        position = _index(Val(key))
        op = StrSliceOp(column, position, None, single=True)
        return self._column(op, value, lambda s: s.str[position], source)

    def concat(self, lhs: Val, rhs: Val, value: object, source: str) -> Val | None:
        """``lhs + rhs`` where one is a native str column and the other one or a str."""
        parts = [lhs, rhs]
        if not any(_str_column(p) for p in parts) or not all(
            _str_column(p) or (p.is_static and isinstance(p.value, str)) for p in parts
        ):
            return None
        inputs: list[SSAValue] = []
        pieces = [""]
        for part in parts:
            owner = part.ssa.owner if part.ssa is not None else None
            if isinstance(owner, StrConcatOp):  # flatten (a + " ") + b
                inputs.extend(owner.inputs)
                inner = [attr_text(p) for p in owner.pieces.data]
                pieces[-1] += inner[0]
                pieces.extend(inner[1:])
            elif part.ssa is not None:
                inputs.append(part.ssa)
                pieces.append("")
            else:
                pieces[-1] += part.value  # type: ignore[operator]
        texts = list(pieces)

        def recompute(*series: pd.Series) -> pd.Series:
            result = texts[0] + series[0] + texts[1]
            for text, s in zip(texts[2:], series[1:], strict=True):
                result = result + s + text
            return result

        val = self._column(StrConcatOp(inputs, pieces), value, recompute, source)
        check_aligned(inputs, self.tracer.examples, value, self.tracer.index_roots)
        return val


def _as_series(value: object) -> pd.Series:
    return value.iloc[:, 0] if isinstance(value, pd.DataFrame) else value  # type: ignore[return-value]


def check_lengths(strings: StringColumns) -> None:
    """``Unsupported`` if a float64 length of a column with missing values (``str_len``)
    reaches Python code or the result other than through a model or a transformer: pandas
    gives int64 lengths for a batch without a missing value."""
    for length in strings.lengths:
        reached, todo = {length}, [length]
        while todo:
            for use in todo.pop().uses:
                op = use.operation
                if isinstance(op, (PredictOp, TransformOp)):
                    continue
                if isinstance(op, (PythonCallOp, func.ReturnOp)):
                    raise Unsupported("the lengths of a column with missing values are float64 "
                                      "in pandas only when the batch has one (else int64): "
                                      "they are compiled where only a model reads them")
                todo += [r for r in op.results if r not in reached]
                reached.update(op.results)


def materialize_strings(tracer: Tracer, strings: StringColumns) -> None:
    """Give a transformed str column to the native ops of its stage that read str columns
    only from frame arguments (a vectorizer's ``feature.decode_text``, a frame matrix): a
    ``pipeline.python_call`` right after the transform recomputes it with pandas from its
    inputs (themselves made available in Python), as a one-column frame. Python calls, the
    result and later stages get the column native code wrote (a kernel output)."""
    ops = list(tracer.block.ops)
    stages = python_call_stages(ops)
    python: dict[SSAValue, SSAValue] = {}

    def available(value: SSAValue) -> SSAValue:
        owner = value.owner
        if value in python or not isinstance(owner, STRING_OPS):
            return python.get(value, value)
        inputs = [available(v) for v in owner.operands]
        recompute, source = strings.recompute[value]
        name = string_column(value.type, "result")

        def run(*frames: object) -> pd.DataFrame:
            return recompute(*(_as_series(f) for f in frames)).to_frame(name)

        callee = tracer.callee("str")
        reason = "the transformed column is used outside native code, so pandas computes it"
        call = PythonCallOp(callee, inputs, [value.type], reason, source)
        tracer.block.insert_op_after(call, owner)
        tracer.calls[callee] = PythonCall(
            callee, PythonFunction(run, [None] * len(inputs), unpack=False), reason, source
        )
        python[value] = call.results[0]
        return call.results[0]

    for op in ops:
        if not isinstance(op, STRING_OPS):
            continue
        # ``s.str[i]`` of an object column (or ``s.str.split().str[k]``, always object, and
        # what is made of it) gives float64 NaN where no row has position i (pandas converts
        # the all-NaN objects): in Python, pandas decides its dtype
        position = isinstance(op, StrSliceOp) and op.single is not None \
            or _of_piece(op.results[0])  # fmt: skip
        outside = [
            use for use in list(op.results[0].uses)
            if not isinstance(use.operation, (*NATIVE_READERS, PythonCallOp, func.ReturnOp))
            and stages.get(use.operation) == stages[op]
            or position and isinstance(use.operation, PythonCallOp | func.ReturnOp)
        ]  # fmt: skip
        if outside:
            replacement = available(op.results[0])
            for use in outside:
                use.operation.operands[use.index] = replacement

