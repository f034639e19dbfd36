"""Compiled and optimized pipelines through ``pickle``: the state carries the save and the
machine code, so another process on the same target runs no LLVM (issue 15's portable
pipelines)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tamper_pipelines import build, optimized_linear

import willump_mlir as wm
from willump_mlir import persist
from willump_mlir.runtime import jit

HERE = Path(__file__).resolve().parent

CHILD = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np
    from willump_mlir.runtime import jit

    compiled = []
    real = jit._optimise
    def counting(llvm_ir):
        compiled.append(len(llvm_ir))
        return real(llvm_ir)
    jit._optimise = counting
    state, rows = pickle.load(open(sys.argv[1], "rb"))
    pipeline = pickle.loads(state)
    np.save(sys.argv[2], np.asarray(pipeline(*rows)))
    print(len(compiled))
    """
)


def child(tmp_path: Path, state: bytes, rows: tuple[object, ...]) -> tuple[np.ndarray, int]:
    """Unpickle ``state`` in a fresh process with an empty cache and call it on ``rows``:
    its result and how many modules LLVM compiled there."""
    payload, out = tmp_path / "payload.pkl", tmp_path / "out.npy"
    payload.write_bytes(pickle.dumps((state, rows)))
    cache = tmp_path / "empty-cache"
    env = os.environ | {"WILLUMP_MLIR_CACHE_DIR": str(cache), "PYTHONPATH": str(HERE)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(payload), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return np.load(out), int(proc.stdout.split()[-1])


@pytest.mark.parametrize("name", ["tabular", "text", "trees"])
def test_round_trip_in_a_fresh_process_runs_no_llvm(name: str, tmp_path: Path) -> None:
    fn, example, fresh = build(name)
    compiled = wm.compile(fn, example=example)
    result, compiles = child(tmp_path, pickle.dumps(compiled), fresh[:1])
    np.testing.assert_array_equal(result, compiled(*fresh))  # the same machine code
    np.testing.assert_allclose(result, fn(*fresh), rtol=0, atol=1e-12)
    assert compiles == 0


def test_data_only_calls_and_the_same_object_per_process() -> None:
    fn, example, fresh = build("tabular")
    compiled = wm.compile(fn, example=example)
    state = pickle.dumps(compiled)
    restored = pickle.loads(state)
    assert isinstance(restored, wm.CompiledPipeline)
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))  # estimators inside
    assert pickle.loads(state) is restored  # rebuilt once per process
    assert restored.__dask_tokenize__() == compiled.__dask_tokenize__()


def test_another_target_compiles_the_ir(tmp_path: Path) -> None:
    fn, example, fresh = build("trees")
    compiled = wm.compile(fn, example=example)
    state = persist.portable(compiled)
    assert state.entries and state.target == jit.host_target()
    elsewhere = replace(state, target="another-cpu\0" + state.target)  # built elsewhere
    result, compiles = child(tmp_path, _call(persist.unpickle, elsewhere), fresh[:1])
    np.testing.assert_array_equal(result, compiled(*fresh))
    assert compiles == 1


@pytest.mark.parametrize("compiler", ["this", "another"])
def test_cache_keys_travel_only_from_the_same_compiler(
    compiler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unpickled program is looked up under the key it came with (no printing of its IR
    to hash it), unless another version of the compiler made it: its machine code and plan
    are not trusted to match this runtime, and its IR is keyed (and compiled) here."""
    fn, example, fresh = build("tabular")
    compiled = wm.compile(fn, example=example)
    state = persist.portable(compiled)
    if compiler == "another":
        state = replace(state, compiler="another compiler")
    keys: list[str | None] = []
    real = persist.compile_traced

    def recording(*args: object, key: str | None = None, **kwargs: object) -> object:
        keys.append(key)
        return real(*args, key=key, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(persist, "compile_traced", recording)
    monkeypatch.setattr(persist, "_UNPICKLED", type(persist._UNPICKLED)())
    restored = persist.unpickle(state)
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))
    assert keys == ([compiled.library.cache_key] if compiler == "this" else [None])
    assert restored.library.cache_key == compiled.library.cache_key


def _call(function: object, argument: object) -> bytes:
    """A pickle that calls ``function(argument)`` when loaded."""

    class Call:
        def __reduce__(self) -> tuple[object, tuple[object]]:
            return function, (argument,)

    return pickle.dumps(Call())


def test_an_optimized_pipeline_round_trips() -> None:
    fast, fresh, model = optimized_linear()
    restored = pickle.loads(pickle.dumps(fast))
    assert isinstance(restored, wm.OptimizedPipeline) and restored.cascaded == fast.cascaded
    np.testing.assert_array_equal(restored(fresh), fast(fresh, model))
    np.testing.assert_array_equal(restored.top_k(7, fresh), fast.top_k(7, fresh, model))
    assert restored.__dask_tokenize__() == fast.__dask_tokenize__()


def test_a_pipeline_loaded_without_objects_pickles(tmp_path: Path) -> None:
    fn, example, fresh = build("tabular")
    wm.compile(fn, example=example).save(tmp_path / "save")
    loaded = wm.load(tmp_path / "save")
    restored = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(restored(fresh[0]), loaded(fresh[0]))
