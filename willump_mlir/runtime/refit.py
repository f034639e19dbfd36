"""``RefitGuard``: a compiled pipeline refuses a call once a bound model was refitted.

The compiled code holds copies of what the bound estimators had learnt when it was compiled
(coefficients, vocabularies, trees). Fitting one of them again (``model.fit(...)`` on the
same object) assigns new objects to its fitted attributes: scikit-learn's ``coef_``,
``vocabulary_``, ``estimators_`` ..., LightGBM's and XGBoost's booster (``_Booster``). The
guard keeps a reference to each of them (a reference, not an id, so no id can be reused)
and, on every call, checks with ``is`` that each is still there, in a flat list (about
40 ns an attribute). On CPython 3.11 to 3.13 the dicts holding them (an estimator's
``vars``) are watched by their version tags first (``_Tags``, about 40 ns a dict): only
when a dict changed in any way since its entries were last found unchanged are they
checked one by one.

Watched, from every bound argument and every global or closure variable the function reads
(and those the user's helper functions it calls read, and the attributes of the user's
modules it reads: ``helpers.SCALE``): estimators (their attributes ending in ``_``, but
ints, bools and None, which a refit may leave the same objects; the booster; a vectorizer's
``_tfidf``; their parameters, which ``set_params`` rebinds: ``MinMaxScaler.clip``,
``OneHotEncoder.handle_unknown``, ``XGBClassifier.missing`` change what a fitted estimator
computes, and a scalar set again to an equal value is no change; the container
``transform`` returns, which ``set_output`` or scikit-learn's ``transform_output`` config
picks), recursively through the estimators a fitted attribute holds and through
``Pipeline`` steps, ``FeatureUnion`` lists and other parameters that hold estimators
(``ColumnTransformer``'s fitted ``transformers_``); lists, tuples and dicts of them; and
the attributes of other objects that lead to one (``model.classifier``). Rebinding such a
list item, dict entry or attribute is caught as well, and so is rebinding any global or
closure variable the function reads (but a module): the tracer copied their values. A dict,
list or set that is bound, or a global or closure variable the function reads but does not
change itself (``MAP[k] = v``, ``MAP.update(...)``), is compared with a shallow copy on
each call: changing it in place (``MAP["x"] = -5``) is caught too; so are the attributes of
a config object (a dataclass instance, a ``SimpleNamespace``: ``cfg.scale = 10``), and so
is a numpy array, Series or DataFrame (``WEIGHTS[1] = 5``, ``TABLE.loc[0, "v"] = -5``),
whatever its size; and so is each such container inside one (``CFG["cols"].append(c)``: the
first ``MAX_ITEMS`` items of a dict, list or tuple, ``MAX_DEPTH`` levels deep). That check
costs a call the same whatever the size for a Series or DataFrame (under pandas 3's
copy-on-write, a write through an object that shares its arrays replaces them: their
identity is checked, ``_Shared``) and for a dict (CPython's version tag, ``_DictVersion``);
it grows with the size for a numpy array (its bytes against a copy's, one ``memcmp``: about
0.4 ms for a million float64, bound by memory bandwidth), a list (its item pointers against
a shallow copy's, one ``memcmp``: about 0.5 ms for a million items) or a set (its hash
table's bytes: about 10 ms for a million items, whose table is 32 MB). Numpy has no write
counter and lists and sets no version tag, so nothing cheaper is exact; ``explain()`` names
such a container of 1 MB or more with its cost per call.

Not detected: changing a fitted array in place (``model.coef_[:] = 0``), training a raw
``lightgbm.Booster`` / ``xgboost.Booster`` in place (``booster.update()``), or writing to a
numpy array a Series or DataFrame was built on without a copy (``pd.Series(a, copy=False)``,
then ``a[0] = 1``: pandas does not see that write); compile again after those.
"""

from __future__ import annotations

import ast
import ctypes
import dataclasses
import dis
import inspect
import operator
import sys
import sysconfig
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn._config import _get_threadlocal_config as _sklearn_config

from willump_mlir.frontend.inlining import changed_roots, user_function, user_module
from willump_mlir.runtime.marshal import InputError

PRIVATE_FITTED = frozenset({"_Booster", "_tfidf"})  # fitted state without the trailing "_"
MAX_DEPTH = 8  # how deep the guard looks into containers and other objects
MAX_ITEMS = 1000  # a larger list, dict or object is data: not looked into for estimators
_MISSING = object()  # a watched attribute that was deleted


class RefitError(InputError):
    """A call after a bound estimator was refitted (or a bound name rebound) in place."""


Entry = tuple[Any, Any, Any, str]  # (container, key, the object it held, path for messages)
Compared = tuple[Any, Any, str]  # (a container, what it is compared with: _copy, its path)


def _is_estimator(value: Any) -> bool:
    return (
        hasattr(value, "fit")
        and hasattr(value, "__dict__")
        and not isinstance(value, type | types.ModuleType | types.FunctionType)
    )


def _is_opaque(value: Any) -> bool:
    """Values never looked into: data, modules, classes, functions, scalars."""
    return value is None or isinstance(
        value,
        str | bytes | int | float | complex | np.ndarray | np.generic | pd.DataFrame | pd.Series
        | pd.Index | type | types.ModuleType | types.FunctionType | types.BuiltinFunctionType
        | types.MethodType,
    )  # fmt: skip


class _Unset:
    """The mark of an estimator without a ``set_output`` container of its own for
    ``transform`` (``RefitGuard`` watches them together: ``_UnsetOutputs``)."""


UNSET = _Unset()


class _UnsetOutputs:
    """``[None]``: scikit-learn's ``transform_output`` in this thread (``set_config``,
    ``config_context``), which applies to ``estimators`` (those without a container of
    their own), and how many of them have one now (``set_output``). Either changing after
    ``wm.compile`` makes ``transform`` return a DataFrame where the compiled code returns
    an array. While neither has, it is the very tuple it was (``RefitGuard`` compares
    with ``is``)."""

    def __init__(self, estimators: list[Any]):
        self.attributes = [vars(e) for e in estimators]  # set_output adds its container
        self.own = ["_sklearn_output_config"] * len(self.attributes)
        self.compiled: tuple[str, int] | None = None
        self.compiled = self[None]

    def __getitem__(self, key: None) -> tuple[str, int]:
        now = (_sklearn_config()["transform_output"],
               sum(map(operator.contains, self.attributes, self.own)))  # fmt: skip
        return self.compiled if now == self.compiled else now


def _estimator_entries(
    est: Any, path: str, seen: dict[int, bool], depth: int
) -> Iterator[Entry]:
    """The fitted attributes of ``est``, and those of the estimators they or its parameters
    hold (a Pipeline's steps, a fitted ColumnTransformer's transformers_); and the container
    ``set_output`` chose for its ``transform`` (``UNSET`` if none: ``_UnsetOutputs``)."""
    if hasattr(est, "set_output"):  # set_output(transform="pandas"): transform gives frames
        own = vars(est).get("_sklearn_output_config") or {}
        config = (own, "transform") if "transform" in own else (UNSET, est)
        yield *config, own.get("transform"), f"{path}.set_output(transform=...)"
    attributes = vars(est)
    get_params = getattr(est, "get_params", None)
    try:
        params = get_params(deep=False) if callable(get_params) else {}
    except Exception:  # a half-built estimator: its attributes are all there is to watch
        params = {}
    for key, value in list(attributes.items()):
        fitted = (key.endswith("_") and not key.startswith("__")) or key in PRIVATE_FITTED
        if fitted and _is_estimator(value):
            yield attributes, key, value, f"{path}.{key}"
            yield from _entries(value, f"{path}.{key}", seen, depth + 1)
        elif fitted and key == "transformers_":  # a ColumnTransformer's fitted clones
            yield attributes, key, value, f"{path}.{key}"
            yield from _entries(value, f"{path}.{key}", seen, depth + 1)
        elif fitted and not isinstance(value, bool | int | None):  # a refit makes new ones
            yield attributes, key, value, f"{path}.{key}"
        elif key in params and not _is_opaque(value):
            inner = _entries(value, f"{path}.{key}", seen, depth + 1)
            if inner or seen.get(id(value)):
                yield attributes, key, value, f"{path}.{key}"
                yield from inner
        elif key in params:  # set_params(clip=True) changes what transform computes
            yield attributes, key, value, f"{path}.{key}"


_SCALARS = (str, bytes, int, float, complex, np.generic)


def _same(current: Any, expected: Any) -> bool:
    """Whether a watched attribute still holds ``expected``: the same object, or a scalar of
    its type equal to it (a parameter set again to its value; NaN to NaN)."""
    if current is expected:
        return True
    if type(current) is not type(expected):
        return False
    if type(current) is tuple:  # feature_range=(0, 1)
        return len(current) == len(expected) and all(map(_same, current, expected))
    if not isinstance(current, _SCALARS):
        return False
    return bool(current == expected or (current != current and expected != expected))


def _entries(value: Any, path: str, seen: dict[int, bool], depth: int) -> list[Entry]:
    """What to watch in ``value``, reached through ``path`` (empty when nothing is, or when
    an earlier path reached it: ``seen`` then says whether it holds anything watched)."""
    if depth > MAX_DEPTH or _is_opaque(value) or id(value) in seen:
        return []
    seen[id(value)] = False  # while walking it (a cycle)
    found = list(_walk(value, path, seen, depth))
    seen[id(value)] = bool(found)
    return found


def _walk(value: Any, path: str, seen: dict[int, bool], depth: int) -> Iterator[Entry]:
    if _is_estimator(value):
        yield from _estimator_entries(value, path, seen, depth)
        return
    if isinstance(value, tuple):  # immutable: only what its items hold
        for i, item in enumerate(value):
            yield from _entries(item, f"{path}[{i}]", seen, depth + 1)
        return
    if isinstance(value, list | dict):
        container, attribute = value, False
    elif isinstance(getattr(value, "__dict__", None), dict):  # another object: the
        # attributes leading to estimators (not a proxy answering any name: llvmlite's)
        container, attribute = vars(value), True
    else:
        return
    if len(container) > MAX_ITEMS:
        return
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for key, item in list(items):
        step = f"{path}.{key}" if attribute else f"{path}[{key!r}]"
        inner = _entries(item, step, seen, depth + 1)
        if inner or seen.get(id(item)):
            yield container, key, item, step
            yield from inner


def _copy(value: Any) -> Any:
    """What a call compares ``value`` with: a shallow copy of a dict, list or set, or of a
    config object's attributes (a dataclass instance, a ``SimpleNamespace``); a copy of a
    numpy array (``_Values``); a Series or DataFrame shared under copy-on-write
    (``_Shared``: pandas 3, where the original object cannot change without pandas
    replacing a part of it); else None. A dict is compared only when its version tag
    changed (``_DictVersion``)."""
    if type(value) is dict:
        return _DictVersion(value) if _DICT_VERSIONS else value.copy()
    if type(value) is list and _LIST_ITEMS:
        return _ListItems(value)
    if type(value) is set and _SET_TABLES:
        return _SetTable(value)
    if type(value) in (list, set):
        return value.copy()
    if isinstance(value, pd.Series | pd.DataFrame):
        return _Shared(value) if _COPY_ON_WRITE else _Values(value.copy())
    if isinstance(value, np.ndarray):
        return _Values(value.copy())
    config = isinstance(value, types.SimpleNamespace) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    )
    if config and hasattr(value, "__dict__"):
        return _Attributes(vars(value).copy())
    return None


class _Attributes(dict):
    """A config object's attributes as ``_copy`` took them: compared with ``vars``."""


def _contents(value: Any, path: str, seen: set[int], depth: int = 0) -> Iterator[Compared]:
    """``value`` and the containers inside it (items of a dict, list or tuple, attributes
    of a config object), each with what a call compares it with (``_copy``) and its path: a
    shallow copy alone misses a change inside an item (``CFG["cols"].append(c)``)."""
    if depth > MAX_DEPTH or id(value) in seen:
        return
    seen.add(id(value))
    copy = _copy(value)
    if copy is not None:
        yield value, copy, path
    if isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        steps = [(f"{path}[{key!r}]", item) for key, item in list(items)]
    elif isinstance(copy, _Attributes):
        steps = [(f"{path}.{key}", item) for key, item in copy.items()]
    else:
        return
    for step, item in steps[:MAX_ITEMS]:
        if isinstance(item, np.ndarray | pd.Series | pd.DataFrame) or not _is_opaque(item):
            yield from _contents(item, step, seen, depth + 1)


CHUNK = 1 << 18  # values compared at a time: no large temporary, and a change stops early


def _memcmp() -> Callable[[Any, Any, int], int] | None:
    """libc's ``memcmp`` (through ``ctypes.PyDLL``: it keeps the GIL, so no other thread
    changes a list or set while it is read), or None where there is none."""
    try:
        function = ctypes.PyDLL(None).memcmp
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


_MEMCMP = _memcmp()


def _memcmp_of(a: Any, b: Any, size: int) -> int:
    """``memcmp(a, b, size)``, where ``_MEMCMP`` was found."""
    assert _MEMCMP is not None
    return _MEMCMP(a, b, size)


def _same_bits(value: np.ndarray, copy: np.ndarray) -> bool:
    """Whether ``value`` holds ``copy``'s bits (NaN where NaN, -0.0 where -0.0): one
    ``memcmp`` of the buffers where ``value`` is C-contiguous (bound by memory bandwidth:
    about 0.4 ms for a million float64), else ``CHUNK`` values at a time; an object array
    holds the same objects, or is compared with ``np.array_equal``."""
    if value.dtype != copy.dtype or value.shape != copy.shape:
        return False
    if _MEMCMP is not None and value.flags.c_contiguous:
        data = (value.__array_interface__["data"][0], copy.__array_interface__["data"][0])
        if not copy.nbytes or not _memcmp_of(*data, copy.nbytes):
            return True
        if not copy.dtype.hasobject:
            return False
    if copy.dtype.hasobject:
        return bool(np.array_equal(value, copy))
    size = copy.dtype.itemsize
    bits = np.dtype(f"u{size}") if size in (1, 2, 4, 8) else np.dtype(np.uint8)
    a = np.ascontiguousarray(value).reshape(-1).view(bits)
    b = copy.reshape(-1).view(bits)
    return not any((a[i : i + CHUNK] != b[i : i + CHUNK]).any() for i in range(0, a.size, CHUNK))


@dataclasses.dataclass(frozen=True)
class _Values:
    """An array's, Series' or DataFrame's copy as ``_copy`` took it."""

    copy: Any

    def same(self, value: Any) -> bool:
        """Whether ``value`` still holds the copy's values (NaN where NaN), dtype, shape and
        labels."""
        copy = self.copy
        if isinstance(copy, np.ndarray):
            return _same_bits(value, copy)
        return bool(value.equals(copy) and getattr(value, "name", None) == getattr(
            copy, "name", None))  # fmt: skip


def _parts(value: pd.Series | pd.DataFrame) -> list[Any]:
    """The objects a Series or DataFrame is made of: its block manager, axes and arrays."""
    manager = value._mgr
    return [manager, *manager.axes, *(block.values for block in manager.blocks)]


def _names(value: pd.Series | pd.DataFrame) -> tuple[Any, ...]:
    """Its name (a Series') and its axes' names, which can be set in place."""
    name = value.name if isinstance(value, pd.Series) else None  # (a frame's getattr: 40 µs)
    return (name, *(tuple(axis.names) for axis in value.axes))


class _Shared:
    """A Series or DataFrame as ``_copy`` took it under copy-on-write: a shallow copy, which
    shares its arrays, so pandas copies an array before writing through the original
    (``TABLE.loc[0, "v"] = -5``, ``s.iloc[3] = 1``, ``fillna(inplace=True)``: numpy views of
    it are read-only); and the parts and names it had. A call checks the parts with ``is``
    (about a microsecond, whatever the size); only when one was replaced are the values
    compared with the shallow copy (``equals``), and an equal object is taken again."""

    def __init__(self, value: pd.Series | pd.DataFrame):
        self.copy = value.copy(deep=False)
        self.parts = _parts(value)
        self.names = _names(value)

    def same(self, value: Any) -> bool:
        parts = _parts(value)
        if _names(value) != self.names:
            return False
        if len(parts) == len(self.parts) and all(map(operator.is_, parts, self.parts)):
            return True
        if not _Values(self.copy).same(value):
            return False
        self.__init__(value)  # set to equal values: shared again, so a later write is seen
        return True


def _dict_version(value: dict[Any, Any]) -> int:
    """CPython's version tag of a dict (PEP 509's ``ma_version_tag``, after the object
    header and ``ma_used``), which every change of the dict renews."""
    return ctypes.c_uint64.from_address(id(value) + _DICT_VERSION_OFFSET).value


_DICT_VERSION_OFFSET = ctypes.sizeof(ctypes.c_ssize_t) + 2 * ctypes.sizeof(ctypes.c_void_p)


def _dict_versions_work() -> bool:
    """Whether this interpreter renews a dict's version tag at every kind of change (CPython
    3.11 to 3.13 do; a tag that stays the same would hide a change: then dicts are compared
    item by item)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 14):
        return False
    probe: dict[Any, Any] = {0: 0}
    changes = [lambda d: d.__setitem__(1, 1), lambda d: d.__setitem__(1, 2),
               lambda d: d.__delitem__(1), lambda d: d.update({0: 3}), lambda d: d.pop(0),
               lambda d: d.setdefault(4, 4), lambda d: d.clear()]  # fmt: skip
    for change in changes:
        before = _dict_version(probe)
        change(probe)
        if _dict_version(probe) == before:
            return False
    return _instance_versions_work()


class _Probe:
    """An object whose attributes ``_instance_versions_work`` sets."""


def _instance_versions_work() -> bool:
    """Whether setting and deleting an object's attributes renews the tag of its ``vars``
    (``RefitGuard`` watches estimators' attributes so), also once the interpreter has
    specialised the store (a loop of them)."""
    probe = _Probe()
    attributes = vars(probe)
    for value in range(64):
        before = _dict_version(attributes)
        probe.a = value
        if _dict_version(attributes) == before:
            return False
    for change in (lambda o: setattr(o, "b", 1), lambda o: delattr(o, "a")):
        before = _dict_version(attributes)
        change(probe)
        if _dict_version(attributes) == before:
            return False
    return True


class _DictVersion:
    """A dict as ``_copy`` took it: a shallow copy and the version tag the dict had. A call
    compares the tags (a fraction of a microsecond, whatever the size); only when the tag
    changed are the items compared, and an equal dict's new tag is taken."""

    def __init__(self, value: dict[Any, Any]):
        self.copy = value.copy()
        self.version = _dict_version(value)

    def same(self, value: dict[Any, Any]) -> bool:
        version = _dict_version(value)
        if version == self.version:
            return True
        if value != self.copy:
            return False
        self.version = version
        return True


_WORD = ctypes.sizeof(ctypes.c_void_p)


def _list_items(value: list[Any]) -> int:
    """The address of a list's array of item pointers (``ob_item``, after the object header
    and ``ob_size``)."""
    return ctypes.c_void_p.from_address(id(value) + 3 * _WORD).value or 0


class _ListItems:
    """A list as ``_copy`` took it: a shallow copy, which holds the list's objects in their
    order (so that no other object can take their addresses). A call compares the two
    arrays of item pointers with one ``memcmp`` (about 0.4 ms for a million items, where
    ``==`` takes milliseconds); only when they differ are the items compared (``==``: the
    same objects, or equal ones), and an equal list's items are taken again."""

    def __init__(self, value: list[Any]):
        self.copy = value.copy()

    def same(self, value: list[Any]) -> bool:
        size = len(value) * _WORD
        if len(value) == len(self.copy) and (
            not size or not _memcmp_of(_list_items(value), _list_items(self.copy), size)
        ):
            return True
        if value != self.copy:
            return False
        self.copy = value.copy()
        return True


def _set_table(value: set[Any]) -> tuple[tuple[int, int, int], int]:
    """A set's ``fill``, ``used`` and ``mask`` (after the object header), and the address of
    its hash table of ``mask + 1`` entries (a key's pointer and its hash)."""
    header = (ctypes.c_ssize_t * 3).from_address(id(value) + 2 * _WORD)
    table = ctypes.c_void_p.from_address(id(value) + 5 * _WORD).value or 0
    return (header[0], header[1], header[2]), table


class _SetTable:
    """A set as ``_copy`` took it: its items in a list (which holds them, so that no other
    object can take their addresses; smaller than a copy of the set), and the bytes of the
    set's hash table with its ``fill``, ``used`` and ``mask``. A call compares those with
    one ``memcmp`` (the table holds every key's address); only when they differ are the
    items compared (``==``), and an equal set's table is taken again."""

    def __init__(self, value: set[Any]):
        self.items = list(value)
        self.header, table = _set_table(value)
        self.table = ctypes.string_at(table, (self.header[2] + 1) * 2 * _WORD)

    def same(self, value: set[Any]) -> bool:
        header, table = _set_table(value)
        if header == self.header and not _memcmp_of(table, self.table, len(self.table)):
            return True
        if value != set(self.items):
            return False
        self.__init__(value)  # type: ignore[misc]  # an equal set: its table now
        return True


def _layouts_work() -> tuple[bool, bool]:
    """Whether lists and sets are laid out as ``_list_items`` and ``_set_table`` read them
    (CPython 3.11 to 3.13 with the GIL); where not, they are compared item by item."""
    if (
        _MEMCMP is None
        or sys.implementation.name != "cpython"
        or not (3, 11) <= sys.version_info < (3, 14)
        or sysconfig.get_config_var("Py_GIL_DISABLED")
    ):
        return False, False
    items = [object(), object(), object()]
    probe = list(items)
    lists = list((ctypes.c_void_p * 3).from_address(_list_items(probe))) == list(map(id, items))
    header, table = _set_table(set(items))
    keys = (ctypes.c_void_p * 16).from_address(table)[::2] if header == (3, 3, 7) else []
    return lists, {k for k in keys if k} == set(map(id, items))


_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
_DICT_VERSIONS = _dict_versions_work()
_LIST_ITEMS, _SET_TABLES = _layouts_work()


class _Tags:
    """The version tags of the dicts holding watched entries (estimators' attributes,
    dicts of models), read through a ctypes view of each made once (it reads the dict's
    memory: the dicts are kept alive): while a dict's tag is the one it had when its
    entries were last found unchanged, none of them changed."""

    _value = operator.attrgetter("value")

    def __init__(self, dicts: list[dict[Any, Any]]):
        self.dicts = list({id(d): d for d in dicts}.values())
        self.views = [ctypes.c_uint64.from_address(id(d) + _DICT_VERSION_OFFSET)
                      for d in self.dicts]  # fmt: skip
        self.expected = self.read()

    def read(self) -> list[int]:
        """The tags now."""
        return list(map(self._value, self.views))


def _equal(container: Any, copy: Any) -> bool:
    """Whether ``container`` still holds ``copy``'s items (the same objects compare equal
    without being compared: NaN, arrays); False where comparing them raises."""
    try:
        if isinstance(copy, _Values | _Shared | _DictVersion | _ListItems | _SetTable):
            return copy.same(container)
        if isinstance(copy, _Attributes):
            return bool(vars(container) == copy)
        return bool(container == copy)
    except Exception:  # items that compare element-wise (a new array in a list)
        return False


LARGE_BYTES = 1 << 20
"""A compared container this large is named in ``explain()`` with its cost per call."""


def _compared(copy: Any) -> tuple[int, str]:
    """The bytes a call compares for a container ``_copy`` took, and what it is."""
    if isinstance(copy, _Values) and isinstance(copy.copy, np.ndarray):
        return copy.copy.nbytes, f"a numpy array of {copy.copy.size:,} values"
    if isinstance(copy, _Values):  # a Series or DataFrame without copy-on-write
        return int(np.sum(copy.copy.memory_usage())), f"a {type(copy.copy).__name__} of " \
            f"{copy.copy.size:,} values"  # fmt: skip
    if isinstance(copy, _SetTable):
        return len(copy.table), f"a set of {len(copy.items):,} items"
    items = copy.copy if isinstance(copy, _ListItems) else copy
    if isinstance(items, list | set):
        return len(items) * _WORD, f"a {type(items).__name__} of {len(items):,} items"
    return 0, ""  # compared by identity or version tag: the same cost whatever the size


def _changed_names(fn: Callable[..., Any]) -> set[str] | None:
    """The names whose value ``fn``'s source (with the functions it defines) may change in
    place (``changed_roots``); their copies would differ by design. None if the source is
    not available: then nothing is compared."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    return set(changed_roots(tree))


def _read_names(code: types.CodeType) -> tuple[set[str], set[str]]:
    """The global names ``code`` (and the functions and comprehensions it defines) reads,
    and those it assigns (``global x; x = ...``)."""
    read, stored = set(code.co_names), set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            stored.add(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            inner_read, inner_stored = _read_names(constant)
            read |= inner_read
            stored |= inner_stored
    return read, stored


def _module_reads(code: types.CodeType) -> set[tuple[str, str]]:
    """The ``(global, attribute)`` pairs ``code`` (and the code it defines) reads as
    ``name.attribute`` of a global name (``helpers.SCALE``)."""
    found: set[tuple[str, str]] = set()
    instructions = list(dis.get_instructions(code))
    for before, after in zip(instructions, instructions[1:], strict=False):
        if before.opname == "LOAD_GLOBAL" and after.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            found.add((before.argval, after.argval))
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found |= _module_reads(constant)
    return found


class RefitGuard:
    """The fitted state of everything a compiled pipeline bound, checked on each call."""

    def __init__(self, fn: Callable[..., Any], bound: dict[str, Any]):
        seen: dict[int, bool] = {}
        entries: list[Entry] = []
        for name, value in bound.items():
            entries += _entries(value, name, seen, 0)
        self.cells: list[tuple[Any, Any, str]] = []
        #: (a container, its shallow copy, its name): compared on each call
        compared: set[int] = set()
        self.contents = [c for n, v in bound.items() for c in _contents(v, n, compared)]
        self._watch_reads(fn, entries, seen, compared, set())
        unset = [k for c, k, _, _ in entries if c is UNSET]
        entries = [e for e in entries if e[0] is not UNSET]
        if unset:
            outputs = _UnsetOutputs(unset)
            entries.append((outputs, None, outputs[None], "sklearn.set_config(transform_output"
                            "=...) or set_output(transform=...) of an estimator"))  # fmt: skip
        self.watched = [(c, k, v) for c, k, v, _ in entries]
        self.paths = [p for *_, p in entries]
        #: the dicts holding watched entries, by version tag, and the other entries: while
        #: no tag changed, only those are checked one by one
        dicts = [c for c, *_ in self.watched if type(c) is dict] if _DICT_VERSIONS else []
        self.tags = _Tags(dicts) if dicts else None
        self.others = [e for e in self.watched if type(e[0]) is not dict or not dicts]
        self.kinds = {name: "argument" for name in bound} | {
            name: "closure variable" for _, _, name in self.cells
        }

    def _watch_reads(self, fn: Callable[..., Any], entries: list[Entry], seen: dict[int, bool],
                     compared: set[int], done: set[int]) -> None:  # fmt: skip
        """Watch the global and closure variables ``fn`` reads, the attributes of the
        user's modules it reads (``helpers.SCALE``), and, the same way, those of the user's
        helper functions among them, which the tracer inlined with their values."""
        code = getattr(fn, "__code__", None)
        namespace = getattr(fn, "__globals__", None)
        if code is None or namespace is None or id(fn) in done:
            return
        done.add(id(fn))
        candidates: list[tuple[Any, str]] = []  # globals and closure values _copy takes
        read, stored = _read_names(code)
        modules = _module_reads(code)
        for name in sorted((read - stored) & set(namespace)):
            value = namespace[name]
            if isinstance(value, types.ModuleType):  # its attributes the code reads
                attributes = vars(value) if user_module(value) else {}
                found = [(attributes, a, f"{name}.{a}") for m, a in sorted(modules)
                         if m == name and a in attributes]  # fmt: skip
            else:  # the tracer copied its value
                found = [(namespace, name, name)]
            for container, key, path in found:
                item = container[key]
                if not isinstance(item, types.ModuleType):
                    entries += [(container, key, item, path), *_entries(item, path, seen, 0)]
                    candidates.append((item, path))
        for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
            try:
                value = cell.cell_contents
            except ValueError:  # not assigned yet
                continue
            self.cells.append((cell, value, name))
            entries += _entries(value, name, seen, 0)
            candidates.append((value, name))
        copies = [(n, list(_contents(v, n, compared))) for v, n in candidates]
        changed = _changed_names(fn) if any(c for _, c in copies) else None  # (read if needed)
        if changed is not None:
            self.contents += [c for n, found in copies if _root_name(n) not in changed
                              for c in found]  # fmt: skip
        for value, _ in candidates:
            helper = user_function(value)
            if helper is not None:
                self._watch_reads(helper, entries, seen, compared, done)

    def __len__(self) -> int:
        return len(self.watched) + len(self.cells)

    def check(self) -> None:
        """Raise ``RefitError`` if a watched object is no longer where it was, or a watched
        container's items are not those it had."""
        try:
            tags = self.tags
            now = tags.read() if tags is not None else []  # (before the entries are read)
            unchanged = tags is not None and now == tags.expected
            for container, key, expected in self.others if unchanged else self.watched:
                if container[key] is not expected and not _same(container[key], expected):
                    break
            else:
                if tags is not None:
                    tags.expected = now  # what the entries were found unchanged at (or later)
                for cell, expected, _ in self.cells:
                    if cell.cell_contents is not expected:
                        break
                else:
                    if all(_equal(c, copy) for c, copy, _ in self.contents):
                        return
        except (KeyError, IndexError, ValueError):  # deleted, or a list shrank, or a cell
            pass
        raise self.error()

    def error(self) -> RefitError:
        """The error naming the first watched object that changed."""
        for (container, key, expected), path in zip(self.watched, self.paths, strict=True):
            try:
                current = container[key]
            except (KeyError, IndexError):
                current = _MISSING
            if not _same(current, expected):
                return RefitError(
                    f"{self._root(path)} changed after wm.compile: {path} is "
                    f"{'gone' if current is _MISSING else 'a new object'} (the model was "
                    "refitted, a parameter set, or rebound); the compiled code holds what it "
                    "was compiled with, so call wm.compile again"
                )
        for cell, expected, name in self.cells:
            try:
                changed = cell.cell_contents is not expected
            except ValueError:  # deleted
                changed = True
            if changed:
                return RefitError(
                    f"closure variable {name!r} was rebound after wm.compile; the compiled "
                    "code holds what it was compiled with, so call wm.compile again"
                )
        for container, copy, path in self.contents:
            if not _equal(container, copy):
                inside = "" if path == _root_name(path) else f": {path}"
                return RefitError(
                    f"{self._root(path)} was changed in place after wm.compile (its items or "
                    f"attributes are not those it had{inside}); the compiled code holds what "
                    "it was compiled with, so call wm.compile again"
                )
        return RefitError("a bound object changed after wm.compile; call wm.compile again")

    def costly_checks(self) -> list[tuple[str, float]]:
        """The containers a call compares in full that hold ``LARGE_BYTES`` or more (an
        array's bytes, a list's or set's item pointers), each described, with the seconds one
        comparison takes now (median of 5)."""
        found = []
        for container, copy, name in self.contents:
            size, what = _compared(copy)
            if size < LARGE_BYTES:
                continue
            times = []
            for _ in range(5):
                started = time.perf_counter()
                _equal(container, copy)
                times.append(time.perf_counter() - started)
            kind = self.kinds.get(_root_name(name), "global")
            found.append((f"{kind} {name!r} ({what})",
                          float(np.median(times))))  # fmt: skip
        return found

    def _root(self, path: str) -> str:
        name = _root_name(path)
        return f"{self.kinds.get(name, 'global')} {name!r}"


def _root_name(path: str) -> str:
    """The argument or variable a path (``CFG['cols']``, ``model.coef_``) starts at."""
    return path.split(".", 1)[0].split("[", 1)[0]
