"""``frame.eval("a * b")`` as the column arithmetic it stands for.

Without numexpr, pandas evaluates the string with its ``python`` engine: its ``pandas``
parser reads ``&``/``|`` as ``and``/``or`` (below the comparisons, so ``a > 1 & b < 2`` is
``(a > 1) & (b < 2)``), ``and``/``or`` as ``&``/``|``, ``not`` as ``~`` and ``a < b < c`` as
``(a < b) & (b < c)``, then applies the Series operators to the columns. The string is
rewritten so (each column name ``c`` as ``frame["c"]``) and traced; the traced value must be
pandas' own result on the example. Compiled: column names, numbers, ``+ - * / // % **``,
unary ``-``/``+``, comparisons, ``&``/``|``/``and``/``or``/``not``/``~``. Anything else
(``@local`` names, backticks, assignments, calls, ``in``, strings), an engine or option, or
numexpr being installed (it computes instead) runs the call in Python. ``query`` selects
rows, which runs in Python.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import TYPE_CHECKING

import pandas as pd
from pandas.core.computation import check

from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: Nodes an expression may hold (after the ``pandas`` parser's rewriting).
_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Name, ast.Constant,
    ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub,
    ast.UAdd, ast.Not, ast.Invert, ast.BitAnd, ast.BitOr, ast.And, ast.Or, ast.Lt, ast.LtE,
    ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
)  # fmt: skip


class FrameEval:
    """``frame.eval(expression)`` natively (see the module docstring)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val, attr: str,
             args: list[Val], kwargs: dict[str, Val]) -> Val:  # fmt: skip
        """``receiver.eval(...)`` or ``receiver.query(...)`` of a native frame; in Python,
        its ``@name``s of the function's variables are given as ``local_dict`` (pandas
        reads them from its caller's frame, which is not the function's there)."""
        mark = self.tracer.mark()
        try:
            return self._call(node, pieces, receiver, attr, args, kwargs)
        except Unsupported as error:
            text = args[0].value if args else None
            names = sorted({n for n in _local_names(text) if n in self.tracer.env}) \
                if isinstance(text, str) and "local_dict" not in kwargs else []  # fmt: skip
            if not names:
                raise
            self.tracer.rollback(mark)
            given = ast.Dict([ast.Constant(n) for n in names],
                             [ast.Name(n, ast.Load()) for n in names])  # type: ignore[misc]
            keywords = [*node.keywords, ast.keyword("local_dict", given)]
            call = ast.Call(node.func, node.args, keywords)
            return self.tracer.opaque(ast.fix_missing_locations(ast.copy_location(call, node)),
                                      error.reason, pieces)  # fmt: skip

    def _call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val, attr: str,
              args: list[Val], kwargs: dict[str, Val]) -> Val:  # fmt: skip
        if attr == "query":
            raise Unsupported("query selects the rows where the expression holds, and row "
                              "selections run in Python")  # fmt: skip
        if len(args) != 1 or kwargs or not isinstance(args[0].value, str):
            raise Unsupported("eval is compiled for one constant string and no options")
        if check.NUMEXPR_INSTALLED:
            raise Unsupported("pandas evaluates the expression with numexpr, which is not "
                              "reproduced")  # fmt: skip
        frame = receiver.value
        assert isinstance(frame, pd.DataFrame)
        name = self.tracer._fresh("frame")
        tree = _parsed(args[0].value, list(frame.columns), name)
        for sub in ast.walk(tree):
            ast.copy_location(sub, node)
        notes = len(self.tracer.notes)
        self.tracer.env[name] = receiver
        try:
            traced = self.tracer.lower(tree)
        finally:
            del self.tracer.env[name]
        if len(self.tracer.notes) > notes:  # a part runs in Python: all of it does
            raise Unsupported(self.tracer.notes[notes].split(" runs in Python: ", 1)[-1])
        value = self.tracer.evaluate(node, pieces)
        if traced.ssa is None or not _same(value, traced.value):
            raise Unsupported("the expression traced is not pandas' result on the example")
        return Val(value, traced.ssa)


def _local_names(expression: str) -> list[str]:
    """The names ``expression`` reads as ``@name`` (the caller's variables)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(expression).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [b.string for a, b in zip(tokens, tokens[1:], strict=False)
            if a.string == "@" and b.type == tokenize.NAME]  # fmt: skip


def _parsed(expression: str, columns: list[object], frame: str) -> ast.expr:
    """``expression`` as pandas' parser reads it, with each column ``c`` as ``frame["c"]``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(expression).readline))
    except (tokenize.TokenError, SyntaxError):
        raise Unsupported("eval's expression does not tokenize as Python") from None
    rewritten = []
    for token in tokens:
        if token.string in ("@", "`", "=") or token.type == tokenize.NL:
            raise Unsupported(f"eval with {token.string!r} (a local name, a quoted column, "
                              "an assignment) is not compiled")  # fmt: skip
        word = {"&": "and", "|": "or"}.get(token.string)
        rewritten.append((tokenize.NAME, word) if word else (token.type, token.string))
    try:
        tree = ast.parse(tokenize.untokenize(rewritten).strip(), mode="eval")
    except SyntaxError:
        raise Unsupported("eval's expression does not parse") from None
    for sub in ast.walk(tree):
        if not isinstance(sub, _ALLOWED):
            raise Unsupported(f"eval of `{ast.unparse(sub)}` is not compiled (column names, "
                              "numbers, arithmetic, comparisons and logic only)")  # fmt: skip
        if isinstance(sub, ast.Constant) and not isinstance(sub.value, int | float):
            raise Unsupported("eval is compiled with numbers as its constants")
        if isinstance(sub, ast.Name) and sub.id not in columns:
            raise Unsupported(f"eval of `{sub.id}`, not a column of the frame, is not compiled")
    return _Rewrite(frame).visit(tree.body)


class _Rewrite(ast.NodeTransformer):
    """pandas' meaning of the parsed expression as Python operators on ``frame``'s columns."""

    def __init__(self, frame: str):
        self.frame = frame

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return ast.Subscript(ast.Name(self.frame, ast.Load()), ast.Constant(node.id), ast.Load())

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        op = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
        values = [self.visit(v) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = ast.BinOp(result, op, value)
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        op = ast.Invert() if isinstance(node.op, ast.Not) else node.op
        return ast.UnaryOp(op, self.visit(node.operand))

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        operands = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        pairs = [ast.Compare(a, [op], [b])
                 for op, a, b in zip(node.ops, operands, operands[1:], strict=False)]  # fmt: skip
        result: ast.expr = pairs[0]
        for pair in pairs[1:]:
            result = ast.BinOp(result, ast.BitAnd(), pair)
        return result


def _same(value: object, traced: object) -> bool:
    """Whether two pandas results are the same: type, dtype, name, index and values."""
    if not isinstance(value, pd.Series) or not isinstance(traced, pd.Series):
        return False
    return value.dtype == traced.dtype and value.name == traced.name and value.equals(traced)
