"""JIT runtime: llvm-dialect module -> LLVM IR -> optimised object code -> callable symbols.

The flow, with an on-disk object cache so that a warm start never runs LLVM::

    ir = staged.text("llvm-ir")                      # willump_mlir.translate
    bind_blob("coef_ab12", weights)                  # external globals, before loading
    lib = load_cached(key) or compile_llvm_ir(ir, key)
    fn = lib.cfunc("score", ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)

Objects are stored as ``<cache_dir>/<sha256>.wobj``: a header (the SHA-256 of the metadata
and the object code, the metadata's length, the blobs' length), JSON metadata with the
caller's key, the defined symbols, the caller's ``attachment`` and the dtype and shape of the
entry's blobs, then the blobs' bytes, then the ELF/Mach-O object; an entry whose key is not
the one looked up is a miss. An entry's blobs are those the compiler's passes created (the
caller's ``blobs``): a hit binds them, after checking each hashes to its name (which the
metadata's digest covers), so a warm start needs no pass to recreate them and hashes each
byte of the entry once.

The file name's sha256 covers the caller's key, the host CPU name and features, the
llvmlite version and :data:`RUNTIME_ABI_VERSION`, so a cache directory can be shared between
machines and releases. Cached object code is run as it is: the cache
directory must be writable by its owner only (a directory others can write is not used),
and one that cannot be created or written is not used either (one ``CacheWarning`` each).
Objects are loaded into an MCJIT engine whose relocations are resolved against the
process (libm), against the blobs registered with :func:`bind_blob` (which must therefore
be bound before loading) and against the loading process's numpy inner loops
(``ufunc_loops.bind``).
"""

import atexit
import contextlib
import ctypes
import fcntl
import functools
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import warnings
import weakref
from collections import ChainMap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import llvmlite
import llvmlite.binding as llvm
import numpy as np

from willump_mlir.blobs import BlobStore
from willump_mlir.runtime import compile_worker, memory, ufunc_loops

RUNTIME_ABI_VERSION = "5"  # 4: kernels read their arguments from slots (pack-kernel-arguments);
# 5: an entry's digest covers its metadata and object code, its blobs hash to their names
"""Bump when the calling convention of generated code or the cache format changes."""

CACHE_LIMIT = 1 << 30
"""Default cap of the cache directory's entries in bytes (``$WILLUMP_MLIR_CACHE_BYTES``):
after a store, the least recently used entries go until the rest fit."""

LEDGER = ".entry-bytes"
"""The cache directory's running total of its entries' bytes and the stores since they
were last counted (``_account``): a store lists the directory only when the total may pass
the limit."""

RECOUNT_STORES = 256
"""Stores after which the entries are counted again, whatever the ledger says (entries
removed or written without it: by hand, or by an older release)."""

_MAGIC = b"WMLIROBJ4\n"
_HEADER = struct.Struct("<32sQQ")  # SHA-256 of metadata + object, lengths of metadata, blobs

_lock = threading.RLock()
_initialized = False
_blobs: dict[str, np.ndarray] = {}
_adopted: dict[str, bytes] = {}  # entries shipped from other processes, by cache key
#: entries adopted and checked (``_parse_entry``) but not loaded yet, by cache key, while
#: the caller of ``adopt_entry`` keeps its ``Adopted``: the load that follows an adoption
#: (unpickling) reads and hashes their megabytes no second time
_checked: "weakref.WeakValueDictionary[str, Adopted]" = weakref.WeakValueDictionary()
_warned: set[str] = set()
_writers: list[threading.Thread] = []  # writing adopted entries to the cache (``stored``)


class CacheWarning(UserWarning):
    """The on-disk object cache cannot be used; compiling goes on without it."""


def _warn_once(message: str, category: type[UserWarning] = CacheWarning) -> None:
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, category, stacklevel=4)


# --------------------------------------------------------------------------------------
# LLVM set-up
# --------------------------------------------------------------------------------------


def _ensure_llvm() -> None:
    """Initialise the native target once (llvmlite 0.50: ``llvm.initialize()`` raises)."""
    global _initialized
    with _lock:
        if not _initialized:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            llvm.initialize_native_asmparser()
            _initialized = True


@functools.cache
def _host_cpu() -> tuple[str, str]:
    """The host CPU name and its feature string, as LLVM reports them."""
    _ensure_llvm()
    return llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()


def _target_machine() -> llvm.TargetMachine:
    """A fresh -O3 JIT target machine for the host CPU (``compile_worker.target_machine``)."""
    return compile_worker.target_machine(*_host_cpu())


# --------------------------------------------------------------------------------------
# Compile workers
# --------------------------------------------------------------------------------------

WORKER_COMPILES = 200
"""A compile worker is replaced after this many compiles, so the native memory LLVM keeps
per compile (about 190 KB with llvmlite 0.50) is returned to the system with it."""


class CompileWarning(UserWarning):
    """No compile worker process can be started; LLVM runs in this process instead."""


class _Worker:
    """One ``compile_worker.py`` child process, used by one compile at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-P", compile_worker.__file__],  # -P: runtime/ not on its path
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.compiles = 0

    def optimise(self, llvm_ir: str) -> tuple[bytes, list[str], list[str]]:
        """``compile_worker.optimise`` of ``llvm_ir``, run by the worker."""
        cpu, features = _host_cpu()
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        self.compiles += 1
        try:
            request = json.dumps({"ir": llvm_ir, "cpu": cpu, "features": features})
            compile_worker.write_frame(stdin, request.encode())
            stdin.flush()
        except OSError:
            pass  # it died: its exit code is reported below
        reply = compile_worker.read_frame(stdout)
        meta = json.loads(reply) if reply is not None else None
        if meta is not None and "error" in meta:
            raise RuntimeError(f"LLVM cannot compile the module: {meta['error']}")
        obj = compile_worker.read_frame(stdout) if meta is not None else None
        if meta is None or obj is None:
            code = self.process.wait()
            raise RuntimeError(
                f"the LLVM compile worker (pid {self.process.pid}) exited with code {code} "
                "while compiling; this process is unaffected"
            )
        return obj, meta["symbols"], meta["externals"]

    def close(self) -> None:
        """Let the worker finish (end of its input) and reap it."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self.process.stdout.close()  # type: ignore[union-attr]


_idle_workers: list[_Worker] = []
_worker_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def _forget_workers() -> None:
    """In a forked child: the parent's workers (and cache writers) are not ours to use."""
    global _worker_slots
    _idle_workers.clear()
    _writers.clear()
    _worker_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def _close_workers() -> None:
    while _idle_workers:
        _idle_workers.pop().close()


os.register_at_fork(after_in_child=_forget_workers)
atexit.register(_close_workers)


def _optimise(llvm_ir: str) -> tuple[bytes, list[str], list[str]]:
    """Object code, defined symbols and external symbols of ``llvm_ir``
    (``compile_worker.optimise``), from an idle compile worker or a new one; at most one
    worker per CPU runs at a time, other compiles wait. ``$WILLUMP_MLIR_COMPILE_WORKERS=0``
    runs LLVM in this process, as does a process that cannot start a worker (one
    ``CompileWarning``)."""
    if os.environ.get("WILLUMP_MLIR_COMPILE_WORKERS") == "0":
        return _optimise_here(llvm_ir)
    slots = _worker_slots
    with slots:
        with _lock:
            worker = _idle_workers.pop() if _idle_workers else None
        if worker is not None and worker.process.poll() is not None:
            worker.close()  # it died while idle (killed, out of memory): start another
            worker = None
        if worker is None:
            try:
                worker = _Worker()
            except OSError as error:
                _warn_once(
                    f"cannot start an LLVM compile worker ({sys.executable!r}: {error}); "
                    "compiling in this process, which keeps about 190 KB per compile",
                    CompileWarning,
                )
                return _optimise_here(llvm_ir)
        try:
            result = worker.optimise(llvm_ir)
        except BaseException:
            worker.close()
            raise
        if worker.compiles >= WORKER_COMPILES:
            worker.close()
        else:
            with _lock:
                _idle_workers.append(worker)
        return result


def _optimise_here(llvm_ir: str) -> tuple[bytes, list[str], list[str]]:
    """``compile_worker.optimise`` in this process."""
    _ensure_llvm()
    cpu, features = _host_cpu()
    with _lock:
        return compile_worker.optimise(llvm_ir, cpu, features)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def bind_blob(name: str, array: np.ndarray) -> None:
    """Make the external global symbol ``name`` resolve to a copy of ``array``'s data on
    a cache line, on huge pages (``memory.lasting_copy``).

    The data is C-contiguous, read-only and kept alive for the lifetime of the process.
    Names are content-hashed by the caller, so binding a name again to equal content
    (same dtype, shape and bytes) is a no-op; binding it to different content raises
    ``ValueError``. Bind before loading code that refers to the symbol.
    """
    with _lock:
        bound = _blobs.get(name)
        if bound is not None:
            if (
                bound.dtype == array.dtype
                and bound.shape == array.shape
                and np.array_equal(bound, array, equal_nan=array.dtype.kind in "fc")
            ):
                return
            raise ValueError(
                f"blob {name!r} is already bound to different content "
                f"({bound.dtype}{list(bound.shape)}); blob names must be content hashes"
            )
        # kernels read blobs at random: on cache lines, on huge pages (``memory``)
        data = memory.lasting_copy(array)
        _blobs[name] = data
        _ensure_llvm()
        llvm.add_symbol(name, data.ctypes.data)


class NativeLibrary:
    """Machine code loaded into an MCJIT engine; the engine is kept so code stays mapped.

    ``address(name)`` returns the entry point of a function defined by the library;
    ``cfunc`` wraps it as a ctypes function.
    """

    def __init__(
        self,
        engine: llvm.ExecutionEngine,
        symbols: list[str],
        cache_key: str,
        *,
        cache_hit: bool,
        attachment: str = "",
        blobs: BlobStore | None = None,
        externals: frozenset[str] = frozenset(),
    ) -> None:
        self._engine = engine
        self._symbols = frozenset(symbols)
        self.externals = externals
        """The symbols the object reads from outside it (blobs, libm, numpy's loops)."""
        self._addresses: dict[str, int] = {}
        self.cache_key = cache_key
        self.cache_hit = cache_hit
        self.attachment = attachment
        self.blobs = blobs if blobs is not None else BlobStore()
        """The blobs stored with the object (bound before it was loaded)."""

    @property
    def symbols(self) -> frozenset[str]:
        """Names of the externally visible functions and globals the library defines."""
        return self._symbols

    def address(self, name: str) -> int:
        """The address of the defined symbol ``name``; ``KeyError`` if it is not defined."""
        addr = self._addresses.get(name)
        if addr is not None:
            return addr
        if name not in self._symbols:
            known = ", ".join(sorted(self._symbols)) or "none"
            raise KeyError(
                f"symbol {name!r} is not defined by the compiled library "
                f"(cache key {self.cache_key!r}); defined symbols: {known}"
            )
        with _lock:
            addr = self._engine.get_function_address(name)
            if not addr:
                addr = self._engine.get_global_value_address(name)
        if not addr:
            raise KeyError(f"symbol {name!r} has no address in the loaded object")
        self._addresses[name] = addr
        return addr

    def cfunc(self, name: str, restype: Any, *argtypes: Any) -> Callable[..., Any]:
        """``name`` as a ctypes function, e.g. ``cfunc("f", c_double, c_void_p, c_int64)``."""
        proto = ctypes.CFUNCTYPE(restype, *argtypes)
        fn = proto(self.address(name))
        fn._willump_library = self  # pyright: ignore  # keep the code mapped
        return fn

    def __repr__(self) -> str:
        hit = "hit" if self.cache_hit else "miss"
        return f"<NativeLibrary {sorted(self._symbols)} cache {hit}>"


def cache_dir() -> Path | None:
    """``$WILLUMP_MLIR_CACHE_DIR`` if set, else ``~/.cache/willump-mlir``, created on demand
    with mode 0700; ``None`` (and one ``CacheWarning``) if it cannot be created or written,
    or if users other than its owner can write it: whoever writes the cache runs code in
    every process that reads it."""
    env = os.environ.get("WILLUMP_MLIR_CACHE_DIR")
    path = Path(env) if env else Path.home() / ".cache" / "willump-mlir"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as error:
        _warn_once(f"object cache disabled: cannot create {path} ({error}); compiling without it")
        return None
    if info.st_mode & 0o022 or info.st_uid != os.getuid():
        _warn_once(
            f"object cache disabled: {path} can be written by users other than its owner "
            f"(mode {info.st_mode & 0o777:o}, owner uid {info.st_uid}), and cached object code "
            f"is run as it is; use a directory only you can write (chmod go-w)"
        )
        return None
    if not os.access(path, os.W_OK | os.X_OK):
        _warn_once(f"object cache disabled: {path} is not writable; compiling without it")
        return None
    return path


def host_target() -> str:
    """What object code depends on besides its IR: the host CPU name and features, the
    llvmlite version and :data:`RUNTIME_ABI_VERSION`."""
    return "\0".join((*_host_cpu(), llvmlite.__version__, RUNTIME_ABI_VERSION))


def cache_path(cache_key: str) -> Path | None:
    """Where the object for ``cache_key`` is (or would be) stored on this host; ``None``
    when the cache is disabled (see ``cache_dir``)."""
    directory = cache_dir()
    if directory is None:
        return None
    material = f"{cache_key}\0{host_target()}"
    return directory / f"{hashlib.sha256(material.encode()).hexdigest()}.wobj"


def cache_entry(cache_key: str) -> bytes | None:
    """The stored entry of ``cache_key`` on this host, to ship to another process
    (:func:`adopt_entry`); ``None`` if there is none."""
    with _lock:
        if cache_key in _adopted:
            return _adopted[cache_key]
    path = cache_path(cache_key)
    try:
        return None if path is None else path.read_bytes()
    except OSError:
        return None


class Adopted:
    """An entry :func:`adopt_entry` took and checked: while its caller keeps this, the
    :func:`load_cached` of its key loads it as checked then."""

    __slots__ = ("__weakref__", "parsed")

    def __init__(self, parsed: tuple[dict[str, Any], BlobStore, bytes]) -> None:
        self.parsed = parsed


def adopt_entry(cache_key: str, target: str, raw: bytes) -> Adopted | None:
    """Take an entry shipped from another process (:func:`cache_entry`) into this host's
    object cache, if it was built for this host's :func:`host_target` and is sound (its
    digest and blobs check, its key is ``cache_key``); ``None`` if it was not taken. It is
    written to the cache directory by a thread of its own (``stored`` waits for it), off
    the path of an unpickling, and kept in memory for this process until it is there (for
    good with the cache disabled or unwritable). The entry as checked now is loaded by
    :func:`load_cached` while the caller keeps the ``Adopted`` returned, then dropped; a
    later load checks it again."""
    if target != host_target():
        return None
    parsed = _parse_entry(raw)
    if parsed is None or parsed[0].get("key") != cache_key:
        return None
    adopted = Adopted(parsed)
    path = cache_path(cache_key)
    with _lock:
        _checked[cache_key] = adopted
        if path is None or not path.is_file():
            _adopted[cache_key] = raw
    if path is not None and cache_key in _adopted:
        writer = threading.Thread(target=_store_adopted, args=(path, cache_key, raw),
                                  name=f"willump-mlir store {path.name}")  # fmt: skip
        with _lock:
            _writers.append(writer)
        writer.start()  # not a daemon: the interpreter waits for it at exit
    return adopted


def _store_adopted(path: Path, cache_key: str, raw: bytes) -> None:
    """Write the adopted entry ``raw`` to ``path``; once it is there, this process no longer
    keeps it in memory."""
    _store_raw(path, raw)
    with _lock:
        if path.is_file() and _adopted.get(cache_key) is raw:
            del _adopted[cache_key]


def stored() -> None:
    """Wait until the entries :func:`adopt_entry` took are written to the cache directory
    (or failed to be: one ``CacheWarning``)."""
    while True:
        with _lock:
            if not _writers:
                return
            writer = _writers.pop()
        writer.join()


def compile_llvm_ir(
    llvm_ir: str,
    cache_key: str,
    attachment: str = "",
    blobs: Mapping[str, np.ndarray] | None = None,
    available: Mapping[str, np.ndarray] | None = None,
) -> NativeLibrary:
    """Optimise ``llvm_ir`` at -O3 for the host CPU, store the object (with ``attachment``
    and ``blobs``, which a cache hit gives back as ``NativeLibrary.attachment`` and
    ``.blobs``) under ``cache_key`` and load it, binding the external symbols it reads from
    ``blobs`` and ``available`` (the blobs that are not stored with it).

    LLVM runs in a compile worker process (``compile_worker.optimise``: llvmlite's new pass
    manager, ``speed_level=3``, loop and SLP vectorisation, then an object file), so the
    native memory LLVM keeps per module stays out of this process; see :func:`_optimise`.
    External symbols (blobs, libm) must resolve at load time.
    """
    obj, symbols, externals = _optimise(llvm_ir)
    kept = {  # the blobs the object reads: a pass may have replaced some it created
        name: np.ascontiguousarray(data)
        for name, data in (blobs or {}).items()
        if name in externals
    }
    meta = {
        "key": cache_key, "symbols": symbols, "externals": externals, "attachment": attachment,
        "blobs": [[name, data.dtype.str, list(data.shape)] for name, data in kept.items()],
    }  # fmt: skip
    path = cache_path(cache_key)
    if path is not None:
        _store(path, meta, b"".join(data.tobytes() for data in kept.values()), obj)
    return _load_object(obj, meta, ChainMap(kept, available or {}), cache_key, cache_hit=False)


def load_cached(
    cache_key: str, available: Mapping[str, np.ndarray] | None = None
) -> NativeLibrary | None:
    """The library stored under ``cache_key`` (adopted from another process, or in the
    cache directory), loaded without running LLVM optimisation or code generation; ``None``
    if it is not there (or the entry is unreadable or damaged, or the cache is disabled).
    The external symbols it reads are bound from its own blobs and ``available``.
    """
    with _lock:
        adopted = _checked.pop(cache_key, None)
    parsed = None if adopted is None else adopted.parsed
    if parsed is None:
        raw = cache_entry(cache_key)
        parsed = None if raw is None else _parse_entry(raw)
    if parsed is None or parsed[0].get("key") != cache_key:
        return None  # absent, damaged, or another key's entry in this one's place
    meta, blobs, obj = parsed
    path = cache_path(cache_key)
    if path is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
    return _load_object(obj, meta, ChainMap(blobs, available or {}), cache_key, cache_hit=True)


# --------------------------------------------------------------------------------------
# Cache entries and object loading
# --------------------------------------------------------------------------------------


def _store(path: Path, meta: dict[str, Any], blobs: bytes, obj: bytes) -> None:
    """Write the cache entry of ``meta``, the bytes of its ``blobs`` and the object code
    ``obj`` to ``path`` (:func:`_store_raw`). Damaged entries would crash LLVM: the digest
    covers the metadata and the object code, and the metadata names each blob by the
    content hash it is checked against, so that loading hashes each byte once."""
    meta_bytes = json.dumps(meta | {"llvmlite": llvmlite.__version__}).encode()
    digest = hashlib.sha256(meta_bytes + obj).digest()
    header = _HEADER.pack(digest, len(meta_bytes), len(blobs))
    _store_raw(path, _MAGIC + header + meta_bytes + blobs + obj)


def _store_raw(path: Path, raw: bytes) -> None:
    """Write a cache entry atomically: a temporary file of a name unique to this call in
    the same directory, then ``os.replace``. A failed write warns once and stores nothing."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wobj")
    except OSError as error:
        _warn_once(f"object cache: cannot write to {path.parent} ({error}); not caching")
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        _warn_once(f"object cache: cannot write to {path.parent} ({error}); not caching")
        return
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _account(path.parent, keep=path, added=len(raw))


def _cache_limit() -> int:
    value = os.environ.get("WILLUMP_MLIR_CACHE_BYTES")
    try:
        return CACHE_LIMIT if value is None else max(0, int(value))
    except ValueError:
        _warn_once(
            f"$WILLUMP_MLIR_CACHE_BYTES={value!r} is not a number of bytes; using {CACHE_LIMIT}"
        )
        return CACHE_LIMIT


def _account(directory: Path, keep: Path, added: int) -> None:
    """Add ``added`` bytes, the entry just stored at ``keep``, to the directory's ledger
    (``LEDGER``: the total and the stores since the entries were counted, read and written
    under an exclusive lock, so that processes sharing the directory add up), and
    ``_evict`` only if the total may pass the limit, the ledger is missing or unreadable,
    or ``RECOUNT_STORES`` stores went by. An entry stored again over its old file is added
    twice: the total only ever overestimates, which makes the next store count sooner."""
    try:
        fd = os.open(directory / LEDGER, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # no ledger: count every time
        _evict(directory, keep)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            total, stores = (int(v) for v in os.pread(fd, 64, 0).split())
        except ValueError:
            total, stores = -1, RECOUNT_STORES
        if total < 0 or stores >= RECOUNT_STORES or total + added > _cache_limit():
            total, stores = _evict(directory, keep), 0
        else:
            total, stores = total + added, stores + 1
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{total} {stores}".encode(), 0)
    except OSError:
        pass  # the next store counts again (a ledger it cannot read)
    finally:
        os.close(fd)  # (and its lock)


def _evict(directory: Path, keep: Path) -> int:
    """Remove the least recently used entries (by modification time, which a hit updates)
    until the entries fit in the cache limit; ``keep``, just stored, stays. The bytes of
    the entries left."""
    entries = []
    with contextlib.suppress(OSError), os.scandir(directory) as listing:
        for entry in listing:
            if entry.name.endswith(".wobj"):
                with contextlib.suppress(OSError):  # another process may evict it first
                    info = entry.stat()
                    entries.append((info.st_mtime_ns, info.st_size, Path(entry.path)))
    total, limit = sum(size for _, size, _ in entries), _cache_limit()
    for _, size, entry in sorted(entries):
        if total <= limit:
            break
        if entry != keep:
            with contextlib.suppress(OSError):
                entry.unlink()
            total -= size
    return total


def _parse_entry(raw: bytes) -> tuple[dict[str, Any], BlobStore, bytes] | None:
    """The metadata, blobs and object of an entry whose metadata and object match its
    SHA-256 and whose blobs hash to their names (and fill their part exactly), else
    ``None``."""
    start = len(_MAGIC) + _HEADER.size
    if not raw.startswith(_MAGIC) or len(raw) < start:
        return None
    digest, meta_len, blobs_len = _HEADER.unpack_from(raw, len(_MAGIC))
    end = start + meta_len + blobs_len  # where the object starts
    if end >= len(raw):
        return None
    view = memoryview(raw)
    checked = hashlib.sha256(view[start : start + meta_len])
    checked.update(view[end:])
    if checked.digest() != digest:
        return None  # truncated or corrupted: loading it could crash the process
    try:
        meta = json.loads(raw[start : start + meta_len])
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("attachment"), str):
        return None
    if not all(isinstance(meta.get(k), list) for k in ("symbols", "externals", "blobs")):
        return None
    offset, blobs = start + meta_len, BlobStore()
    try:
        for name, dtype, shape in meta["blobs"]:
            data = np.frombuffer(raw, np.dtype(dtype), int(np.prod(shape)), offset)
            blobs.put(name, data.reshape(shape))  # BlobError unless it hashes to its name
            offset += data.nbytes
    except (TypeError, ValueError):  # BlobError is a ValueError
        return None
    return (meta, blobs, raw[end:]) if offset == end else None


def _load_object(
    obj: bytes,
    meta: dict[str, Any],
    blobs: Mapping[str, np.ndarray],
    cache_key: str,
    *,
    cache_hit: bool,
) -> NativeLibrary:
    """Bind the external symbols the object reads that ``blobs`` holds (only those: a
    binding lasts as long as the process), then load object code into a fresh MCJIT engine
    (built on an empty module) and link it.

    Unresolvable external symbols would make LLVM abort the process, so they are checked
    first and reported as ``RuntimeError``.
    """
    _ensure_llvm()
    with _lock:
        for name in meta["externals"]:
            if name in blobs:
                bind_blob(name, blobs[name])
        ufunc_loops.bind(meta["externals"])  # numpy's inner loops, this process's
        tm = _target_machine()
        empty = llvm.parse_assembly("")
        empty.triple = tm.triple
        empty.data_layout = str(tm.target_data)
        # Creating the engine also makes the process's own symbols (libm) searchable.
        engine = llvm.create_mcjit_compiler(empty, tm)
        missing = [name for name in meta["externals"] if not llvm.address_of_symbol(name)]
        if missing:
            raise RuntimeError(
                f"cannot load compiled library (cache key {cache_key!r}): unresolved "
                f"external symbols {missing}; bind blobs with bind_blob() before loading"
            )
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
    own = BlobStore.checked({e[0]: _blobs.get(e[0], blobs[e[0]]) for e in meta["blobs"]})
    return NativeLibrary(
        engine, meta["symbols"], cache_key, cache_hit=cache_hit, attachment=meta["attachment"],
        blobs=own, externals=frozenset(meta["externals"]),
    )  # fmt: skip
