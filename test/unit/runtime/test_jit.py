"""Tests of the JIT runtime (willump_mlir.runtime.jit) and of convert-to-llvm semantics."""

import ctypes
import math
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects import get_all_dialects
from xdsl.parser import Parser

from willump_mlir.blobs import BlobStore
from willump_mlir.passes.convert_to_llvm import ConvertToLLVMPass
from willump_mlir.runtime import jit
from willump_mlir.translate import module_to_llvm_ir

KERNEL = """
"memref.global"() <{{sym_name = "{blob}", sym_visibility = "public",
                    type = memref<2xf64>, initial_value}}> : () -> ()
func.func @dot(%x: memref<?xf64>, %n: index) -> f64 {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant {start} : f64
  %w = memref.get_global @{blob} : memref<2xf64>
  %w0 = memref.load %w[%c0] : memref<2xf64>
  %w1 = memref.load %w[%c1] : memref<2xf64>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%a = %z) -> (f64) {{
    %v = memref.load %x[%i] : memref<?xf64>
    %t = math.fma %v, %w0, %w1 : f64
    %a2 = arith.addf %a, %t : f64
    scf.yield %a2 : f64
  }}
  func.return %s : f64
}}
"""

DOT = (ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)


def lower(text: str) -> str:
    """Parse func/scf/arith/math/memref text, run convert-to-llvm, return LLVM IR."""
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    module = Parser(ctx, text).parse_module()
    ConvertToLLVMPass().apply(ctx, module)
    module.verify()
    return module_to_llvm_ir(module, BlobStore())


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(cache))
    return cache


def dot_kernel(start: float = 0.0) -> tuple[str, str]:
    """A fresh blob name (bound to [2, 1]) and the LLVM IR of a kernel using it."""
    blob = unique("blob")
    jit.bind_blob(blob, np.array([2.0, 1.0]))
    return blob, lower(KERNEL.format(blob=blob, start=start))


def call_dot(lib: jit.NativeLibrary, x: np.ndarray) -> float:
    return lib.cfunc("dot", *DOT)(x.ctypes.data, len(x))


def test_cache_dir_is_created_from_env(cache_in_tmp: Path) -> None:
    assert not cache_in_tmp.exists()
    assert jit.cache_dir() == cache_in_tmp
    assert cache_in_tmp.is_dir()


def test_miss_then_hit_skips_llvm(monkeypatch: pytest.MonkeyPatch) -> None:
    _, ir = dot_kernel()
    key = unique("key")
    assert jit.load_cached(key) is None
    lib = jit.compile_llvm_ir(ir, key)
    assert not lib.cache_hit
    x = np.arange(5.0)
    assert call_dot(lib, x) == pytest.approx(float((2 * x + 1).sum()))

    def no_llvm(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not optimise or generate code")

    monkeypatch.setattr(llvm, "create_pass_builder", no_llvm)
    monkeypatch.setattr(llvm.TargetMachine, "emit_object", no_llvm)
    hit = jit.load_cached(key)
    assert hit is not None and hit.cache_hit
    assert call_dot(hit, x) == pytest.approx(float((2 * x + 1).sum()))
    assert list(jit.cache_dir().glob("*.wobj")) == [jit.cache_path(key)]


def test_different_ir_misses() -> None:
    _, ir_a = dot_kernel(0.0)
    _, ir_b = dot_kernel(100.0)
    jit.compile_llvm_ir(ir_a, "key-a")
    assert jit.load_cached("key-b") is None
    lib_b = jit.compile_llvm_ir(ir_b, "key-b")
    lib_a = jit.load_cached("key-a")
    assert lib_a is not None
    x = np.ones(3)
    assert call_dot(lib_a, x) == 9.0
    assert call_dot(lib_b, x) == 109.0
    assert len(list(jit.cache_dir().glob("*.wobj"))) == 2


def test_hit_in_new_process(cache_in_tmp: Path) -> None:
    blob, ir = dot_kernel()
    jit.compile_llvm_ir(ir, "shared-key")
    script = textwrap.dedent(
        f"""
        import ctypes, os
        import llvmlite.binding as llvm
        import numpy as np
        from willump_mlir.runtime import jit

        def boom(*a, **k):
            raise AssertionError("LLVM optimisation ran on a cache hit")

        llvm.create_pass_builder = boom
        llvm.TargetMachine.emit_object = boom
        jit.bind_blob({blob!r}, np.array([2.0, 1.0]))
        lib = jit.load_cached("shared-key")
        assert lib is not None and lib.cache_hit
        x = np.arange(10.0)
        f = lib.cfunc("dot", ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)
        print(f(x.ctypes.data, len(x)))
        """
    )
    env = {**os.environ, "WILLUMP_MLIR_CACHE_DIR": str(cache_in_tmp)}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == float((2 * np.arange(10.0) + 1).sum())


def test_least_recently_used_entries_are_evicted_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = [unique("key") for _ in range(3)]
    first = jit.compile_llvm_ir(dot_kernel(1.0)[1], keys[0])
    size = jit.cache_path(keys[0]).stat().st_size
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_BYTES", str(2 * size + size // 2))  # two entries
    jit.compile_llvm_ir(dot_kernel(2.0)[1], keys[1])
    os.utime(jit.cache_path(keys[0]), ns=(1, 1))  # used long ago ...
    os.utime(jit.cache_path(keys[1]), ns=(2, 2))
    assert jit.load_cached(keys[0]) is not None  # ... until this hit: now the newest
    jit.compile_llvm_ir(dot_kernel(3.0)[1], keys[2])
    stored = {key for key in keys if jit.cache_path(key).exists()}
    assert stored == {keys[0], keys[2]}
    assert call_dot(first, np.ones(2)) == 7.0  # a loaded library outlives its entry


def ledger(cache: Path) -> tuple[int, int]:
    total, stores = (cache / jit.LEDGER).read_text().split()
    return int(total), int(stores)


def test_stores_list_the_cache_only_when_it_may_pass_the_limit(
    cache_in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger adds each store's bytes; the entries are counted (and the least recently
    used evicted) only without a readable ledger, past the limit, or every
    RECOUNT_STORES stores, which also corrects a total others changed behind its back."""
    counted = []
    evict = jit._evict
    monkeypatch.setattr(jit, "_evict", lambda d, keep: counted.append(keep) or evict(d, keep))

    def entries() -> int:
        return sum(p.stat().st_size for p in cache_in_tmp.glob("*.wobj"))

    keys = [unique("key") for _ in range(6)]
    jit.compile_llvm_ir(dot_kernel(1.0)[1], keys[0])  # no ledger yet: counted
    jit.compile_llvm_ir(dot_kernel(2.0)[1], keys[1])  # far below the limit: added
    assert len(counted) == 1 and ledger(cache_in_tmp) == (entries(), 1)
    jit.cache_path(keys[0]).unlink()  # behind the ledger's back: it overestimates
    (cache_in_tmp / jit.LEDGER).write_text("not numbers")
    jit.compile_llvm_ir(dot_kernel(3.0)[1], keys[2])  # an unreadable ledger: counted
    assert len(counted) == 2 and ledger(cache_in_tmp) == (entries(), 0)
    monkeypatch.setattr(jit, "RECOUNT_STORES", 1)
    jit.compile_llvm_ir(dot_kernel(4.0)[1], keys[3])  # added: one store since the count
    assert len(counted) == 2 and ledger(cache_in_tmp) == (entries(), 1)
    jit.cache_path(keys[1]).unlink()
    jit.compile_llvm_ir(dot_kernel(5.0)[1], keys[4])  # RECOUNT_STORES went by: counted
    assert len(counted) == 3 and ledger(cache_in_tmp) == (entries(), 0)
    monkeypatch.setattr(jit, "RECOUNT_STORES", 256)
    limit = entries() + jit.cache_path(keys[4]).stat().st_size // 2
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_BYTES", str(limit))
    jit.compile_llvm_ir(dot_kernel(6.0)[1], keys[5])  # past the limit: counted, evicted
    assert len(counted) == 4 and ledger(cache_in_tmp) == (entries(), 0)
    assert jit.cache_path(keys[5]).exists() and entries() <= limit


def test_unknown_symbol_error_message() -> None:
    _, ir = dot_kernel()
    lib = jit.compile_llvm_ir(ir, unique("key"))
    assert lib.address("dot") > 0
    with pytest.raises(KeyError, match=r"'nope' is not defined .*defined symbols: dot"):
        lib.address("nope")


def test_unbound_blob_raises_instead_of_aborting() -> None:
    blob = unique("unbound")
    ir = lower(KERNEL.format(blob=blob, start=0.0))
    with pytest.raises(RuntimeError, match=f"unresolved external symbols.*{blob}"):
        jit.compile_llvm_ir(ir, unique("key"))


def test_blob_rebinding() -> None:
    name = unique("blob")
    data = np.array([1.0, 2.0, np.nan])
    jit.bind_blob(name, data)
    jit.bind_blob(name, data.copy())  # equal content (NaN included): fine
    with pytest.raises(ValueError, match="already bound to different content"):
        jit.bind_blob(name, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError):
        jit.bind_blob(name, data.astype(np.float32))


def test_blob_is_a_private_copy() -> None:
    blob, ir = dot_kernel()
    lib = jit.compile_llvm_ir(ir, unique("key"))
    assert call_dot(lib, np.ones(1)) == 3.0
    jit.bind_blob(blob, np.array([2.0, 1.0]))  # same content, still fine


def test_entry_carries_the_blobs_passes_created(cache_in_tmp: Path) -> None:
    """A blob stored with the object is bound by a hit in a fresh process, where nothing
    else binds it; an entry whose blob does not hash to its name is a miss."""
    store = BlobStore()
    symbol = store.add(unique("created"), np.array([2.0, 1.0])).symbol.data
    ir = lower(KERNEL.format(blob=symbol, start=0.0))
    lib = jit.compile_llvm_ir(ir, "with-blobs", blobs={symbol: store[symbol]})
    assert call_dot(lib, np.ones(2)) == 6.0 and lib.blobs.keys() == {symbol}
    script = textwrap.dedent(
        """
        import ctypes
        import numpy as np
        from willump_mlir.runtime import jit

        lib = jit.load_cached("with-blobs")
        assert lib is not None and lib.cache_hit and len(lib.blobs) == 1
        x = np.arange(10.0)
        print(lib.cfunc("dot", ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)(x.ctypes.data, 10))
        """
    )
    env = {**os.environ, "WILLUMP_MLIR_CACHE_DIR": str(cache_in_tmp)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == float((2 * np.arange(10.0) + 1).sum())

    path = jit.cache_path("with-blobs")
    raw = bytearray(path.read_bytes())
    at = raw.index(np.array([2.0, 1.0]).tobytes())
    raw[at : at + 8] = np.array([3.0]).tobytes()  # the blob changed (the digest leaves it out)
    path.write_bytes(bytes(raw))
    assert jit.load_cached("with-blobs") is None
    raw[at : at + 8] = np.array([2.0]).tobytes()
    start = len(jit._MAGIC) + jit._HEADER.size
    digest, meta_len, blobs_len = jit._HEADER.unpack_from(raw, len(jit._MAGIC))
    for at in (start + 2, start + meta_len + blobs_len + 2):  # the metadata, the object code
        changed = bytearray(raw)
        changed[at] ^= 1
        path.write_bytes(bytes(changed))
        assert jit.load_cached("with-blobs") is None
    path.write_bytes(bytes(raw))
    assert jit.load_cached("with-blobs") is not None


def test_adopted_entry_is_kept_while_its_adoption_is(cache_in_tmp: Path) -> None:
    """An adopted entry is loaded as checked on adoption while the caller keeps what
    ``adopt_entry`` returned; dropped, it is not kept in memory once the object cache has
    it."""
    key = unique("adopted")
    lib = jit.compile_llvm_ir(dot_kernel()[1], key)
    raw = jit.cache_entry(key)
    assert raw is not None and lib is not None
    jit.cache_path(key).unlink()
    assert jit.adopt_entry(key, "another target", raw) is None
    assert jit.adopt_entry(unique("other"), jit.host_target(), raw) is None  # not its key
    assert jit.adopt_entry(key, jit.host_target(), raw[:-1]) is None  # damaged
    adopted = jit.adopt_entry(key, jit.host_target(), raw)
    assert adopted is not None and jit._checked[key] is adopted
    jit.stored()  # written by a thread of its own
    assert jit.cache_path(key).read_bytes() == raw and key not in jit._adopted
    del adopted
    assert key not in jit._checked
    loaded = jit.load_cached(key)
    assert loaded is not None and loaded.cache_hit


def test_corrupt_cache_entry_is_a_miss() -> None:
    key = unique("key")
    jit.cache_path(key).write_bytes(b"garbage")
    assert jit.load_cached(key) is None


# --------------------------------------------------------------------------------------
# Semantics of the lowering, checked against numpy through the JIT
# --------------------------------------------------------------------------------------

UNARY_F64 = """
func.func @k(%x: memref<?xf64>, %out: memref<?xf64>, %n: index) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {{
    %v = memref.load %x[%i] : memref<?xf64>
    {body}
    memref.store %r, %out[%i] : memref<?xf64>
  }}
  func.return
}}
"""

UNARY_CASES = {
    "%r = math.absf %v : f64": np.abs,
    "%r = math.sqrt %v : f64": np.sqrt,
    "%r = math.exp %v : f64": np.exp,
    "%r = math.log %v : f64": np.log,
    # libm calls: compare with libm (Python's math); numpy's SIMD versions can differ by 1 ulp.
    "%r = math.log1p %v : f64": np.vectorize(math.log1p),
    "%r = math.expm1 %v : f64": np.vectorize(math.expm1),
    "%r = math.tanh %v : f64": np.vectorize(math.tanh),
    "%r = math.floor %v : f64": np.floor,
    "%r = math.ceil %v : f64": np.ceil,
    "%r = arith.negf %v : f64": np.negative,
    "%t = math.powf %v, %v : f64\n    %r = math.copysign %t, %v : f64": lambda v: np.copysign(
        v**v, v
    ),
    "%c = arith.constant 0.5 : f64\n    %r = arith.maximumf %v, %c : f64": lambda v: np.maximum(
        v, 0.5
    ),
    "%c = arith.constant 0.5 : f64\n    %r = arith.minimumf %v, %c : f64": lambda v: np.minimum(
        v, 0.5
    ),
    "%b = arith.cmpf uno, %v, %v : f64\n    %r = arith.uitofp %b : i1 to f64": np.isnan,
    "%b = arith.cmpf ult, %v, %v : f64\n    %r = arith.uitofp %b : i1 to f64": lambda v: np.isnan(
        v
    ),
    "%b = arith.cmpf ord, %v, %v : f64\n    %r = arith.uitofp %b : i1 to f64": lambda v: (
        ~(np.isnan(v))
    ),
    "%q = arith.fptosi %v : f64 to i64\n    %r = arith.sitofp %q : i64 to f64": np.trunc,
}


@pytest.mark.parametrize("body", list(UNARY_CASES))
def test_unary_f64_semantics(body: str) -> None:
    x = np.array([0.25, 1.5, 2.0, 7.75, np.nan, 1e-12, 3.0])
    lib = jit.compile_llvm_ir(lower(UNARY_F64.format(body=body)), unique("key"))
    out = np.zeros_like(x)
    fn = lib.cfunc("k", None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    fn(x.ctypes.data, out.ctypes.data, len(x))
    with np.errstate(all="ignore"):
        expected = np.asarray(UNARY_CASES[body](x), dtype=np.float64)  # pyright: ignore
    if "fptosi" in body:  # NaN saturates to 0
        expected = np.nan_to_num(expected, nan=0.0)
    np.testing.assert_array_equal(out, expected)


INT_KERNEL = """
func.func @k(%a: i64, %b: i64) -> i64 {{
  {body}
  func.return %r : i64
}}
"""

INT_CASES = {
    "%r = arith.divsi %a, %b : i64": lambda a, b: int(np.trunc(a / b)),
    "%r = arith.remsi %a, %b : i64": lambda a, b: int(np.fmod(a, b)),
    "%r = arith.maxsi %a, %b : i64": max,
    "%r = arith.minui %a, %b : i64": lambda a, b: a if (a % 2**64) < (b % 2**64) else b,
    "%r = arith.xori %a, %b : i64": lambda a, b: a ^ b,
    "%r = arith.shrsi %a, %b : i64": lambda a, b: a >> b,
    "%t = arith.trunci %a : i64 to i8\n  %r = arith.extui %t : i8 to i64": lambda a, b: a % 256,
    "%t = arith.trunci %a : i64 to i8\n  %r = arith.extsi %t : i8 to i64": lambda a, b: (
        (a + 128) % 256 - 128
    ),
    "%c = arith.cmpi sle, %a, %b : i64\n  %r = arith.extui %c : i1 to i64": lambda a, b: int(
        a <= b
    ),
    "%x = arith.index_cast %a : i64 to index\n  %y = arith.index_cast %b : i64 to index\n"
    "  %z = arith.muli %x, %y : index\n  %r = arith.index_cast %z : index to i64": (
        lambda a, b: a * b
    ),
}


@pytest.mark.parametrize("body", list(INT_CASES))
def test_integer_semantics(body: str) -> None:
    lib = jit.compile_llvm_ir(lower(INT_KERNEL.format(body=body)), unique("key"))
    fn = lib.cfunc("k", ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
    for a, b in [(-7, 2), (300, 3), (-1000, 7), (5, 1)]:
        assert fn(a, b) == INT_CASES[body](a, b), (a, b)


def test_uitofp_and_fptosi_edge_cases() -> None:
    text = """
    func.func @u(%a: i64) -> f64 {
      %r = arith.uitofp %a : i64 to f64
      func.return %r : f64
    }
    func.func @s(%a: f64) -> i64 {
      %r = arith.fptosi %a : f64 to i64
      func.return %r : i64
    }
    """
    lib = jit.compile_llvm_ir(lower(text), unique("key"))
    u = lib.cfunc("u", ctypes.c_double, ctypes.c_uint64)
    s = lib.cfunc("s", ctypes.c_int64, ctypes.c_double)
    for value in [0, 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64 - 2**11 - 1]:
        assert u(value) == float(np.uint64(value).astype(np.float64)), value
    assert s(1e300) == 2**63 - 1 and s(-1e300) == -(2**63) and s(-2.9) == -2


def test_while_loop_and_multi_dim_global() -> None:
    text = """
    "memref.global"() <{sym_name = "grid_ab", sym_visibility = "public",
                        type = memref<2x3xf64>, initial_value}> : () -> ()
    func.func @collatz(%n: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %r:2 = scf.while (%v = %n, %steps = %c0) : (i64, i64) -> (i64, i64) {
        %go = arith.cmpi sgt, %v, %c1 : i64
        scf.condition(%go) %v, %steps : i64, i64
      } do {
      ^bb0(%v2: i64, %s2: i64):
        %odd = arith.remsi %v2, %c2 : i64
        %is_odd = arith.cmpi ne, %odd, %c0 : i64
        %next = scf.if %is_odd -> (i64) {
          %t = arith.muli %v2, %c3 : i64
          %t1 = arith.addi %t, %c1 : i64
          scf.yield %t1 : i64
        } else {
          %h = arith.divsi %v2, %c2 : i64
          scf.yield %h : i64
        }
        %s3 = arith.addi %s2, %c1 : i64
        scf.yield %next, %s3 : i64, i64
      }
      func.return %r#1 : i64
    }
    func.func @cell(%i: index, %j: index) -> f64 {
      %g = memref.get_global @grid_ab : memref<2x3xf64>
      %v = memref.load %g[%i, %j] : memref<2x3xf64>
      func.return %v : f64
    }
    """
    jit.bind_blob("grid_ab", np.arange(6.0).reshape(2, 3) * 10)
    lib = jit.compile_llvm_ir(lower(text), unique("key"))
    collatz = lib.cfunc("collatz", ctypes.c_int64, ctypes.c_int64)
    assert [collatz(n) for n in (1, 2, 3, 6, 27)] == [0, 1, 7, 8, 111]
    cell = lib.cfunc("cell", ctypes.c_double, ctypes.c_int64, ctypes.c_int64)
    assert cell(1, 2) == 50.0 and cell(0, 1) == 10.0


def test_call_to_external_c_function_with_memref_args() -> None:
    text = """
    func.func private @memcmp(memref<?xi8>, memref<?xi8>, i64) -> i32
    func.func @same(%a: memref<?xi8>, %b: memref<?xi8>, %n: index) -> i1 {
      %len = arith.index_cast %n : index to i64
      %c = func.call @memcmp(%a, %b, %len) : (memref<?xi8>, memref<?xi8>, i64) -> i32
      %z = arith.constant 0 : i32
      %eq = arith.cmpi eq, %c, %z : i32
      func.return %eq : i1
    }
    """
    lib = jit.compile_llvm_ir(lower(text), unique("key"))
    same = lib.cfunc("same", ctypes.c_bool, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64)
    assert same(b"abcd", b"abcd", 4) and not same(b"abcd", b"abXd", 4)
    assert same(b"abcd", b"abXd", 2)


def test_noinline_helper_stays_a_function_of_its_own() -> None:
    """A private helper marked ``willump.noinline`` is defined ``noinline`` (internal) and
    called, where an unmarked one called once is inlined and discarded."""
    text = """
    func.func private @{name}(%x: f64) -> f64 {attributes}{{
      %y = arith.mulf %x, %x : f64
      func.return %y : f64
    }}
    func.func @square(%x: f64) -> f64 {{
      %y = func.call @{name}(%x) : (f64) -> f64
      func.return %y : f64
    }}
    """
    marked = lower(text.format(name="kept", attributes="attributes {willump.noinline} "))
    assert re.search(r'^define internal double @"?kept"?\(.*\) noinline', marked, re.M)
    lib = jit.compile_llvm_ir(marked, unique("key"))
    assert lib.cfunc("square", ctypes.c_double, ctypes.c_double)(3.0) == 9.0
    plain = lower(text.format(name="inlined", attributes=""))
    assert "noinline" not in plain
