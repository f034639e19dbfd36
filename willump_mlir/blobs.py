"""The blob store: a compilation's constant arrays, travelling with its module.

Coefficients, vocabularies and tree node arrays are data, not IR: an op names each by a
content-addressed symbol, ``#pipeline.blob<coef_1a2b3c4d5e6f7a8b : tensor<1x21xf64>>``, and
the arrays live in the :class:`BlobStore` of the compilation. A store is handed to the
passes through the xDSL ``Context``: :func:`pipeline_dialect` gives the ``pipeline`` dialect
a :class:`BlobResources` interface that holds it, and a pass reads or creates blobs with
``blob_store(ctx).array(attr)`` and ``blob_store(ctx).add(stem, array)``.

Because the interface is xDSL's ``OpAsmDialectInterface``, blobs print and parse as MLIR
dialect resources, so a lit test can carry small blobs in its own text::

    %w = "pipeline.transform"(...) {params = {scale = #pipeline.blob<s_0a… : tensor<2xf64>>}}
    {-#
      dialect_resources: { pipeline: { s_0a…: "0x08000000000000000000F03F0000000000000040" } }
    #-}

(MLIR's hex blob: four little-endian bytes of alignment, then the data.) A symbol ends with
16 hex digits of the SHA-256 of the array's bytes, dtype and shape, so equal names are equal
contents, and a blob that does not hash to its name is refused wherever it comes from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
from xdsl.context import Context
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    f32,
    f64,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute

from willump_mlir.dialects.pipeline import BlobAttr, Pipeline

ELEMENTS: dict[np.dtype, Attribute] = {
    np.dtype(np.float64): f64,
    np.dtype(np.float32): f32,
    np.dtype(np.int64): i64,
    np.dtype(np.int32): i32,
    np.dtype(np.uint8): IntegerType(8, Signedness.UNSIGNED),
}
"""The element types a blob may have, by numpy dtype."""

_DTYPES = {element: dtype for dtype, element in ELEMENTS.items()}
_ALIGNMENT = 8


class BlobError(ValueError):
    """A blob is missing, or is not the array its symbol or its ``#pipeline.blob`` names."""


def blob_digest(data: np.ndarray) -> str:
    """What a blob's symbol ends with: 16 hex digits of the SHA-256 of its bytes, dtype and
    shape (``data`` C-contiguous; hashed where it is, without a copy)."""
    digest = hashlib.sha256(data.reshape(-1).view(np.uint8) if data.size else b"")
    digest.update(str(data.dtype).encode() + str(data.shape).encode())
    return digest.hexdigest()[:16]


def immutable(data: np.ndarray) -> bool:
    """Whether nobody can change ``data``: read-only and a view of a ``bytes`` object (a
    blob read from a file or a cache entry in place; an array that owns its memory can be
    made writable again)."""
    base = data
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return isinstance(base, bytes)


def blob_type(data: np.ndarray) -> TensorType:
    """The tensor type of a blob's ``#pipeline.blob``; ``KeyError`` for a dtype that is not
    a blob element."""
    return TensorType(ELEMENTS[data.dtype], list(data.shape))


class BlobStore(Mapping[str, np.ndarray]):
    """Read-only arrays by symbol. Adding is idempotent: a symbol names its content.

    Blobs parsed from dialect resources arrive as bytes without a type; the first
    :meth:`array` call with the ``#pipeline.blob`` that reads one gives it its dtype and
    shape (and checks its hash). Blobs stored with :meth:`put_later` are checked when first
    read.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray] | None = None) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._untyped: dict[str, bytes] = {}
        self._unchecked: dict[str, np.ndarray | Callable[[], np.ndarray]] = {}
        for symbol, data in (arrays or {}).items():
            self.put(symbol, data)

    @classmethod
    def checked(cls, arrays: Mapping[str, np.ndarray]) -> BlobStore:
        """A store of read-only ``arrays`` known to hash to their symbols, kept as they are,
        not hashed again: the blobs ``runtime.jit`` bound for native code (copies of
        blobs it checked)."""
        store = cls()
        store._arrays = dict(arrays)
        return store

    def include(self, other: BlobStore) -> None:
        """Add the blobs of ``other`` that this store does not hold, as they are there
        (checked already, or to be checked when first read: nothing is hashed now)."""
        for symbol, data in other._arrays.items():
            self._arrays.setdefault(symbol, data)
        for symbol, data in other._unchecked.items():
            if symbol not in self._arrays:
                self._unchecked.setdefault(symbol, data)

    def add(self, stem: str, array: np.ndarray) -> BlobAttr:
        """Store ``array`` (f64, f32, i64, i32 or uint8) under ``<stem>_<digest>``; return its
        ``#pipeline.blob``. Characters of ``stem`` outside ``[A-Za-z0-9_]`` become ``_``."""
        data = np.ascontiguousarray(array)
        if data.dtype not in ELEMENTS:
            raise TypeError(f"blob {stem!r} has unsupported dtype {data.dtype}")
        symbol = f"{re.sub(r'[^A-Za-z0-9_]', '_', stem)}_{blob_digest(data)}"
        self._keep(symbol, data)
        return BlobAttr(symbol, blob_type(data))

    def put(self, symbol: str, array: np.ndarray) -> None:
        """Store ``array`` under ``symbol``, which must be its content hash."""
        data = np.ascontiguousarray(array)
        if data.dtype not in ELEMENTS:
            raise BlobError(f"blob {symbol!r} has unsupported dtype {data.dtype}")
        if not symbol.endswith("_" + blob_digest(data)):
            raise BlobError(f"blob {symbol!r} does not hold the data its name hashes")
        self._keep(symbol, data)

    def put_later(self, symbol: str, array: np.ndarray | Callable[[], np.ndarray]) -> None:
        """Store ``array`` under ``symbol``, checked as :meth:`put` checks it when it is
        first read (``BlobError`` then): an unpickled pipeline's blobs that its machine code
        does not read are hashed only if its IR is parsed or it is saved. ``array`` may be
        a function that reads it then (a pickle's deflated blobs are inflated then)."""
        if symbol not in self._arrays:
            self._unchecked[symbol] = array

    def _check(self, symbol: str) -> None:
        """:meth:`put` the array stored under ``symbol`` by :meth:`put_later`, if there is
        one."""
        data = self._unchecked.get(symbol)
        if data is not None:
            self.put(symbol, data() if callable(data) else data)
            self._unchecked.pop(symbol, None)

    def put_bytes(self, symbol: str, raw: bytes) -> None:
        """Store the untyped bytes of a parsed dialect resource (see :meth:`array`)."""
        if symbol not in self._arrays:
            self._untyped[symbol] = raw

    def array(self, blob: BlobAttr) -> np.ndarray:
        """The array ``blob`` names, of exactly its dtype and shape; ``BlobError`` if the store
        has no such array."""
        symbol = blob.symbol.data
        if symbol in self._untyped:
            dtype = _DTYPES.get(blob.type.get_element_type())
            raw = self._untyped[symbol]
            if dtype is None or len(raw) != dtype.itemsize * blob.size:
                raise BlobError(f"resource {symbol!r} holds {len(raw)} bytes, not {blob.type}")
            self.put(symbol, np.frombuffer(raw, dtype).reshape(blob.shape))
            del self._untyped[symbol]
        self._check(symbol)
        data = self._arrays.get(symbol)
        if data is None:
            raise BlobError(f"blob {symbol!r} is not in this compilation's blob store")
        if data.dtype not in ELEMENTS or blob_type(data) != blob.type:
            raise BlobError(
                f"blob {symbol!r} is {data.dtype}{list(data.shape)}, the IR reads it as "
                f"{blob.type}"
            )
        return data

    def copy(self) -> BlobStore:
        """A store of the same blobs (checked already: nothing is hashed again), to which
        blobs may be added without changing this one."""
        copied = BlobStore()
        copied._arrays = dict(self._arrays)
        copied._untyped = dict(self._untyped)
        copied._unchecked = dict(self._unchecked)
        return copied

    def replacement(self, blob: BlobAttr, array: np.ndarray) -> BlobAttr:
        """Store ``array`` as what replaces ``blob`` (a pass's re-laid or folded version): under
        ``blob``'s stem, with its own content hash."""
        return self.add(blob.symbol.data.rsplit("_", 1)[0], array)

    def truncate(self, count: int) -> None:
        """Forget every array added after the first ``count`` (a rolled-back trace)."""
        for symbol in list(self._arrays)[count:]:
            del self._arrays[symbol]

    def hex(self, symbol: str) -> str:
        """The blob as an MLIR dialect-resource hex string."""
        raw = self._untyped.get(symbol)
        if raw is None:
            raw = self[symbol].tobytes()
        return "0x" + (_ALIGNMENT.to_bytes(4, "little") + raw).hex().upper()

    def __or__(self, other: Mapping[str, np.ndarray]) -> BlobStore:
        merged = self.copy()
        for symbol, data in other.items():
            merged.put(symbol, data)
        return merged

    def __getitem__(self, symbol: str) -> np.ndarray:
        self._check(symbol)
        return self._arrays[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._arrays, *self._unchecked])

    def __len__(self) -> int:
        return len(self._arrays) + len(self._unchecked)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._arrays or symbol in self._untyped or symbol in self._unchecked

    def _keep(self, symbol: str, data: np.ndarray) -> None:
        if symbol not in self._arrays:
            owned = data.base is None and not data.flags.writeable
            kept = data if owned or immutable(data) else data.copy()  # nobody else may change it
            kept.setflags(write=False)
            self._arrays[symbol] = kept


class BlobResources(OpAsmDialectInterface):
    """The ``pipeline`` dialect's resources: a :class:`BlobStore`, which dialect resources
    parse into and print from (``{-# dialect_resources: { pipeline: {...} } #-}``)."""

    def __init__(self, store: BlobStore) -> None:
        super().__init__()
        self.store = store

    def declare_resource(self, key: str) -> str:
        return key  # content-addressed: the same key is the same blob

    def parse_resource(self, key: str, val: str) -> None:
        if not val.startswith("0x") or len(val) < 10 or len(val) % 2:
            raise ValueError(f"blob {key!r} must be a hex string of alignment and data")
        self.store.put_bytes(key, bytes.fromhex(val[10:]))

    def build_resources(self, keys: Iterable[str]) -> dict[str, str]:
        return {key: self.store.hex(key) for key in keys if key in self.store}


def pipeline_dialect(store: BlobStore) -> Dialect:
    """The ``pipeline`` dialect with ``store`` as its resources (one per context)."""
    return Dialect(
        Pipeline.name, list(Pipeline.operations), list(Pipeline.attributes),
        [BlobResources(store)],
    )  # fmt: skip


def blob_store(ctx: Context) -> BlobStore:
    """The blob store of the compilation ``ctx`` belongs to (``pipeline_dialect``)."""
    dialect = ctx.get_optional_dialect(Pipeline.name)
    resources = dialect.get_interface(BlobResources) if dialect is not None else None
    if resources is None:
        raise BlobError(
            "this context has no blob store: load the pipeline dialect with "
            "willump_mlir.blobs.pipeline_dialect(store)"
        )
    return resources.store


def blob_attributes(module: ModuleOp) -> list[BlobAttr]:
    """The ``#pipeline.blob`` attributes of every op of ``module``, nested ones included."""
    found: list[BlobAttr] = []

    def visit(attr: Attribute) -> None:
        if isinstance(attr, BlobAttr):
            found.append(attr)
        elif isinstance(attr, ParametrizedAttribute):
            for child in attr.parameters:
                visit(child)
        elif isinstance(attr, ArrayAttr):
            for child in attr.data:
                visit(child)
        elif isinstance(attr, DictionaryAttr):
            for child in attr.data.values():
                visit(child)

    for op in module.walk():
        for attr in (*op.properties.values(), *op.attributes.values()):
            visit(attr)
    return found
