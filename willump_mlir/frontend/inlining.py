"""Inline the user's own helper functions while tracing.

``X = feats(df)`` where ``feats`` is a plain Python function of the user's (at module
level, in a notebook cell, nested in another function; a lambda bound to a name; a
``functools.partial`` of one) is traced through: its parameters are bound to the traced
argument values (positional, keyword, defaults), its body is traced in a fresh scope whose
names resolve in *its* module's globals and closure, and the call's value is the value of
its ``return``. A statement of the helper that is not compiled runs in Python on its own,
as in the traced function itself.

A helper that changes an argument in place (``d["x"] = ...`` without a copy) changes the
caller's object, as pandas does: every caller name bound to that argument sees the change.
A helper that is not inlined (a recursive call, no source, ``*args``) runs as one Python
call; if it may change an argument in place, the caller's whole statement runs in Python
and rebinds the names it passed (``ChangesArguments``).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import os
import sysconfig
import textwrap
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: How many helper calls deep inlining goes.
MAX_DEPTH = 16
#: Code flags of functions whose call does not run their body (generators, coroutines).
_NOT_RUN = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
#: Where installed libraries and the standard library live: their functions are not inlined.
_LIBRARIES = tuple(
    os.path.realpath(p) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
#: Libraries whose functions are never inlined, wherever they are installed.
LIBRARY_MODULES = frozenset({"numpy", "pandas", "scipy", "sklearn", "lightgbm", "xgboost",
                              "pyarrow", "math", "functools", "builtins"})  # fmt: skip
#: Methods that change their receiver in place (lists, dicts, sets, numpy arrays).
MUTATORS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "sort", "reverse", "add", "discard", "fill", "resize", "put",
})  # fmt: skip


class ChangesArguments(Exception):
    """A helper that is not inlined may change the caller's ``names`` in place: the
    caller's statement runs in Python and rebinds them (``reason`` says why)."""

    def __init__(self, reason: str, names: list[str]):
        super().__init__(reason)
        self.reason = reason
        self.names = names


@dataclass
class Helper:
    """A user function ready to inline: its body, where it is, the names it sees and the
    arguments a ``functools.partial`` gives it."""

    function: Callable[..., Any]
    name: str
    body: list[ast.stmt]
    params: list[str]
    first_line: int
    ns: dict[str, Any]
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] | None = None


def user_function(function: object) -> Callable[..., Any] | None:
    """``function`` (or the function of a ``functools.partial``) if it is the user's own
    plain Python function: not a builtin, method, or a library's or willump's function."""
    if isinstance(function, functools.partial):
        function = function.func
    if not inspect.isfunction(function):
        return None
    return function if _user_code(function.__module__, function.__code__.co_filename) else None


def _user_code(module: str | None, filename: str) -> bool:
    """Whether code of ``module`` from ``filename`` is the user's: not a library's (installed,
    the standard library's) or willump's."""
    module = module or ""
    if module.split(".")[0] == "willump_mlir" and not module.startswith("willump_mlir.corpus"):
        return False
    path = os.path.realpath(filename)
    installed = {"site-packages", "dist-packages"} & set(path.split(os.sep))
    return not (path.startswith(_LIBRARIES) or installed or filename.startswith("<frozen")
                or module.split(".")[0] in LIBRARY_MODULES)  # fmt: skip


def user_module(module: types.ModuleType) -> bool:
    """Whether ``module`` is one of the user's own (a file outside the libraries)."""
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and _user_code(module.__name__, filename)


def is_helper(function: object) -> bool:
    """Whether a call of ``function`` goes to the inliner (a user function or a partial)."""
    return user_function(function) is not None


def _parse(function: Callable[..., Any]) -> tuple[list[ast.stmt], list[str], int]:
    """The body, parameter names and first line of ``function``'s source (a ``lambda``'s
    body is one ``return``); ``Unsupported`` when it cannot be read exactly."""
    name = function.__name__
    code = function.__code__
    if code.co_flags & _NOT_RUN:
        raise Unsupported(f"`{name}` is a generator or coroutine: it is not inlined")
    if hasattr(function, "__wrapped__"):
        raise Unsupported(f"`{name}` is wrapped by a decorator: it is not inlined")
    try:
        lines, start = inspect.getsourcelines(function)
    except (OSError, TypeError) as error:
        raise Unsupported(f"the source of `{name}` is not available ({error})") from None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        raise Unsupported(f"the source of `{name}` does not parse on its own") from None
    start = max(start, 1)
    if name == "<lambda>":
        found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
                 and n.lineno == code.co_firstlineno - start + 1]  # fmt: skip
        if len(found) != 1:
            raise Unsupported("the lambda's source line holds more than one lambda")
        lam = found[0]
        body: list[ast.stmt] = [ast.copy_location(ast.Return(lam.body), lam.body)]
        return body, [a.arg for a in (*lam.args.posonlyargs, *lam.args.args,
                                      *lam.args.kwonlyargs)], start  # fmt: skip
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != name:
        raise Unsupported(f"the source of `{name}` is not a plain `def`")
    if fdef.decorator_list:
        raise Unsupported(f"`{name}` has decorators: it is not inlined")
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(fdef)):
        raise Unsupported(f"`{name}` declares global or nonlocal names: it is not inlined")
    args = fdef.args
    return fdef.body, [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)], start


def helper(function: object) -> Helper:
    """The ``Helper`` of a user function or a partial of one (``Unsupported`` if it cannot
    be inlined)."""
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = {}
    while isinstance(function, functools.partial):
        args, kwargs = (*function.args, *args), {**function.keywords, **kwargs}
        function = function.func
    assert inspect.isfunction(function)
    name = function.__name__
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise Unsupported(f"`{name}` takes *args or **kwargs: it is not inlined")
    body, params, start = _parse(function)
    try:
        closure = inspect.getclosurevars(function).nonlocals if function.__closure__ else {}
    except ValueError:  # a closure cell not yet filled
        raise Unsupported(f"a variable `{name}` closes over is not yet assigned") from None
    ns = {**function.__globals__, **closure}
    changed = _changed_state(body, params, ns)
    if changed is not None:
        raise Unsupported(f"`{name}` changes `{changed}`, which outlives the call (a global "
                          "or closure variable): it runs whole, once per call, as written")
    return Helper(function, name, body, params, start, ns, args, kwargs)


def _in_place(method: str, call: ast.Call) -> bool:
    """Whether ``receiver.method(...)`` (``call``) may change its receiver: a mutating
    method, or an ``inplace`` keyword."""
    return method in MUTATORS or any(k.arg == "inplace" for k in call.keywords)


def changed_roots(tree: ast.AST) -> Iterator[str]:
    """The names ``tree`` may change the value of in place: the root of an assignment or
    ``del`` target (``NAME[key] = v``, ``NAME.attr += 1``) or of an in-place method's
    receiver (``NAME.update(...)``, ``NAME.fillna(0, inplace=True)``)."""
    for node in ast.walk(tree):
        target: ast.AST | None = None
        if isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
            target = node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                _in_place(node.func.attr, node):  # fmt: skip
            target = node.func
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            yield target.id


def _changed_state(body: list[ast.stmt], params: list[str], ns: dict[str, Any]) -> str | None:
    """A global or closure variable of the helper that its body assigns into or changes by
    an in-place method (``COUNT[0] += len(x)``, ``LOG.append(x)``), else None."""
    module = ast.Module(body, [])
    local = set(params) | {n.id for n in ast.walk(module)
                           if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    for name in changed_roots(module):
        if name not in local and name in ns \
                and not inspect.ismodule(ns[name]):  # ``np.sort(x)`` is no change of np
            return name
    return None


def _rebinds(body: list[ast.stmt], name: str) -> bool:
    """Whether ``body`` assigns the name ``name`` anywhere."""
    return any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
               for n in ast.walk(ast.Module(body, [])))  # fmt: skip


#: Parents of a bare name that make a new value of it (``d + 1``, ``d == x``).
_NEW_VALUE = (ast.BinOp, ast.Compare, ast.UnaryOp, ast.BoolOp, ast.Return)


def _changed_by(node: ast.AST, name: str, ns: dict[str, Any], seen: frozenset = frozenset(),
                _seen_names: frozenset[str] = frozenset()) -> bool:  # fmt: skip
    """Whether ``node`` may change the object ``name`` is bound to in place: it assigns
    into it (``d["x"] = ...``, ``d.loc[m, "x"] = ...``, ``del d["x"]``), calls an in-place
    method of it (``inplace=True``), names it otherwise (``t = d``) and changes that name, or
    passes it on (to a helper of ``ns`` that may change its parameter; to any function but
    the builtins and numpy/pandas functions that only read it)."""
    parents = {id(c): p for p in ast.walk(node) for c in ast.iter_child_nodes(p)}
    for leaf in ast.walk(node):
        if not (isinstance(leaf, ast.Name) and leaf.id == name):
            continue
        current: ast.AST = leaf
        parent = parents.get(id(current))
        while isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is current:
            if not isinstance(parent.ctx, ast.Load):
                return True
            call = parents.get(id(parent))
            if isinstance(parent, ast.Attribute) and isinstance(call, ast.Call) and \
                    call.func is parent and _in_place(parent.attr, call):  # fmt: skip
                return True
            current, parent = parent, parents.get(id(parent))
        if current is not leaf or not isinstance(leaf.ctx, ast.Load) or \
                isinstance(parent, _NEW_VALUE):  # fmt: skip
            continue
        if isinstance(parent, ast.Assign) and parent.value is leaf and \
                all(isinstance(t, ast.Name) for t in parent.targets):  # an alias: ``t = x``
            aliases = [t.id for t in parent.targets if t.id not in _seen_names]  # type: ignore[attr-defined]
            if any(_changed_by(node, a, ns, seen, _seen_names | {name}) for a in aliases):
                return True
            continue
        if not (isinstance(parent, ast.Call) and leaf in parent.args and (
                _reads_only(parent, parent.args.index(leaf), ns)
                or _passed_to_reader(parent, parent.args.index(leaf), ns, seen))):  # fmt: skip
            return True
    return False


#: Builtins that never change their arguments.
_READING_BUILTINS = frozenset({
    len, abs, min, max, sum, round, sorted, list, tuple, set, dict, float, int, str, bool,
    isinstance, range, enumerate, zip, repr, hash, any, all,
})  # fmt: skip

#: numpy functions that write into an argument.
_NUMPY_WRITERS = frozenset({"copyto", "put", "place", "putmask", "fill_diagonal", "shuffle",
                            "put_along_axis"})  # fmt: skip


def _reads_only(call: ast.Call, position: int, ns: dict[str, Any]) -> bool:
    """Whether ``call`` is of a builtin or a numpy/pandas function that only reads its
    ``position``-th argument (``len(x)``, ``np.sin(x)``; not ``np.sin(a, x)``, ``out=``)."""
    if any(k.arg == "out" for k in call.keywords):
        return False
    node, path = call.func, []
    while isinstance(node, ast.Attribute):
        path.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return False
    function = ns.get(node.id, getattr(builtins, node.id, None))
    for attr in reversed(path):
        function = getattr(function, attr, None)
    if isinstance(function, np.ufunc):
        return position < function.nin
    try:
        if function in _READING_BUILTINS:
            return True
    except TypeError:  # unhashable
        return False
    module = (getattr(function, "__module__", None) or "").split(".")[0]
    return module in ("numpy", "pandas") and getattr(function, "__name__", "") not in \
        _NUMPY_WRITERS and callable(function) and not inspect.ismethod(function)


def _passed_to_reader(call: ast.Call, position: int, ns: dict[str, Any], seen: frozenset
                      ) -> bool:  # fmt: skip
    """Whether ``call`` is of a helper (named in ``ns``) that does not change its
    ``position``-th parameter in place."""
    function = ns.get(call.func.id) if isinstance(call.func, ast.Name) else None
    if user_function(function) is None or isinstance(function, functools.partial):
        return False
    assert inspect.isfunction(function)
    if function.__code__ in seen:
        return False
    try:
        body, params, _ = _parse(function)
    except Unsupported:
        return False
    if position >= len(params) or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    inner = {**function.__globals__}
    return not changes_in_place(body, params[position], inner, seen | {function.__code__})


def rebinding_safely(body: list[ast.stmt], name: str, ns: dict[str, Any],
                     seen: frozenset = frozenset()) -> bool | None:  # fmt: skip
    """How the body treats parameter ``name``: False if it never rebinds it (every change
    is to the caller's object); True if it first rebinds it by a statement ``name = expr``
    that does not change the argument (``d = d.copy()``) and no earlier statement mentions
    it; None otherwise (it may change the argument and then rebind the name)."""
    if not _rebinds(body, name):
        return False
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name:  # fmt: skip
            return not _changed_by(stmt.value, name, ns, seen)
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt)):
            return None
    return None


def changes_in_place(body: list[ast.stmt], name: str, ns: dict[str, Any],
                     seen: frozenset = frozenset()) -> bool:  # fmt: skip
    """Whether the body may change the argument its parameter ``name`` is bound to."""
    safe = rebinding_safely(body, name, ns, seen)
    if safe is None:
        return True
    return not safe and _changed_by(ast.Module(body, []), name, ns, seen)


def called(node: ast.expr, lookup: Callable[[str], object]) -> object:
    """The function ``node`` calls by a name (``feats(df)``) or a module's attribute
    (``helpers.feats(df)``), the name looked up by ``lookup``; None for another call."""
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owner = lookup(func.value.id)
        return getattr(owner, func.attr, None) if inspect.ismodule(owner) else None
    return lookup(func.id) if isinstance(func, ast.Name) else None


#: The namespace key naming the helpers whose parameters are being classified (recursion).
_CLASSIFYING = "__willump_classifying__"


def passed_to_helper(call: ast.Call, key: int | str | None, ns: dict[str, Any],
                     static_by_use: Callable[..., set[str]]) -> str | None:  # fmt: skip
    """How the helper ``call`` is of uses the argument it passes at ``key`` (a position or
    a keyword): ``"table"`` if its body uses the parameter only as a lookup table or column
    names (``static_by_use``), else ``"other"``; None if ``call`` is of no helper. A table
    argument of the traced function passed on to a helper is then bound as it would be
    if the function used it itself."""
    function = called(call, ns.get)
    if not is_helper(function) or isinstance(function, functools.partial):
        return None
    assert inspect.isfunction(function)
    seen = ns.get(_CLASSIFYING, frozenset())
    if key is None or function.__code__ in seen or \
            any(isinstance(a, ast.Starred) for a in call.args):  # fmt: skip
        return "other"
    try:
        found = helper(function)
    except Unsupported:
        return "other"
    name = found.params[key] if isinstance(key, int) and key < len(found.params) else key
    if name not in found.params:
        return "other"
    found.ns[_CLASSIFYING] = seen | {function.__code__}
    fdef = ast.FunctionDef(found.name, ast.arguments([], [], None, [], [], None, []), found.body,
                           [], None)  # fmt: skip
    return "table" if static_by_use(fdef, [name], found.ns) else "other"


class Inliner:
    """Traces calls of the user's own functions through their bodies (see module doc)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer
        self.stack: list[Helper] = []  # the helpers being inlined, outermost first

    @property
    def active(self) -> bool:
        """Whether the tracer is inside an inlined helper."""
        return bool(self.stack)

    def where(self, line: int) -> str:
        """``name line N of file`` of the statement being traced in the innermost helper."""
        inner = self.stack[-1]
        return f"{inner.name} line {line} of {inner.function.__code__.co_filename}"

    def call(self, node: ast.Call, function: object, args: list[Val],
             kwargs: dict[str, Val]) -> Val:  # fmt: skip
        """``function(*args, **kwargs)`` traced through the helper's body; ``Unsupported``
        (the call runs in Python) or ``ChangesArguments`` if it is not inlined."""
        try:
            found = helper(function)
            if any(h.function.__code__ is found.function.__code__ for h in self.stack) or \
                    found.function is self.tracer.fn:  # fmt: skip
                raise Unsupported(f"`{found.name}` calls itself (recursion): it is not inlined")
            if len(self.stack) >= MAX_DEPTH:
                raise Unsupported(f"helpers nested more than {MAX_DEPTH} calls deep are not "
                                  "inlined")  # fmt: skip
            signature = inspect.signature(found.function)
            statics = [Val(a) for a in found.args]
            extra = {k: Val(v) for k, v in (found.kwargs or {}).items()}
            try:
                bound = signature.bind(*statics, *args, **{**extra, **kwargs})
            except TypeError as error:
                raise Unsupported(f"the call does not match `{found.name}`'s parameters: "
                                  f"{error}") from None  # fmt: skip
            bound.apply_defaults()
            safety = {p: rebinding_safely(found.body, p, found.ns) for p in found.params}
            unsafe = [p for p, s in safety.items() if s is None]
            if unsafe:
                raise Unsupported(f"`{found.name}` rebinds its parameter `{unsafe[0]}` after "
                                  "using it: it is not inlined")  # fmt: skip
        except Unsupported as error:
            self._refused(node, function, error.reason)
            raise
        params = {p: v if isinstance(v, Val) else Val(v) for p, v in bound.arguments.items()}
        try:
            return self._trace(found, params, [p for p, s in safety.items() if s is False])
        except Unsupported as error:  # the rows change inside: the call runs in Python
            self._refused(node, function, error.reason)
            raise

    def _refused(self, node: ast.Call, function: object, reason: str) -> None:
        """A helper that is not inlined: ``ChangesArguments`` if it may change an argument
        that the caller passed by name (any, when its source cannot be read)."""
        user = user_function(function)
        assert user is not None
        try:
            names = [a.arg for a in node.keywords]
            bound = inspect.signature(function).bind(*node.args, **dict.fromkeys(names))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return  # the call raises in Python, as the original does
        passed = {p: a for p, a in bound.arguments.items()}
        for keyword in node.keywords:
            passed[keyword.arg] = keyword.value  # type: ignore[index]
        try:
            body, params, _ = _parse(user)
        except Unsupported:
            body, params = [], []
        env = self.tracer.env
        changed = sorted({a.id for p, a in passed.items()
                          if isinstance(a, ast.Name) and a.id in env and not env[a.id].is_static
                          and (p not in params or changes_in_place(body, p, user.__globals__))})
        if changed:
            raise ChangesArguments(f"{reason}; it may change {', '.join(changed)} in place: the "
                                   "statement runs in Python and rebinds them", changed)

    def _trace(self, found: Helper, params: dict[str, Val], kept: list[str]) -> Val:
        """Trace ``found``'s body with ``params`` bound; the names in ``kept`` are never
        rebound, so their final values are the caller's objects, changed in place."""
        tracer = self.tracer
        saved = (tracer.fn, tracer.first_line, tracer.ns, tracer.env, tracer._stmt)
        notes = len(tracer.notes)
        tracer.fn, tracer.first_line = found.function, found.first_line
        tracer.ns, tracer.env = dict(found.ns), dict(params)
        self.stack.append(found)
        try:
            (returned,) = tracer.run(found.body)
            final = {p: tracer.env.get(p) for p in kept}
        except Unsupported:
            del tracer.notes[notes:]
            raise
        finally:
            self.stack.pop()
            tracer.fn, tracer.first_line, tracer.ns, tracer.env, tracer._stmt = saved
        for param in kept:  # the helper changed the caller's object: the caller sees it
            before, after = params[param], final[param]
            if after is not None and after is not before:
                for var, bound in list(tracer.env.items()):
                    if bound is before:
                        tracer.env[var] = after
        return returned
