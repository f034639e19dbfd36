"""Compiled and optimized pipelines through ``pickle``: the state carries the save and the
machine code, so another process on the same target runs no LLVM (issue 15's portable
pipelines)."""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile
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
    from llvm_runs import COMPILED

    state, rows = pickle.load(open(sys.argv[1], "rb"))
    pipeline = pickle.loads(state)
    np.save(sys.argv[2], np.asarray(pipeline(*rows)))
    print(len(COMPILED))
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


def test_a_pipeline_is_pickled_once_per_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pickling a pipeline again (each Ray Data job, each Dask graph) reuses its state; a
    signing key set since gives a state signed with it, and the unsigned one comes back
    when the key is gone again."""
    fn, example, fresh = build("tabular")
    compiled = wm.compile(fn, example=example)
    monkeypatch.delenv(persist.SIGNING_KEY, raising=False)
    state = persist.portable(compiled)
    assert persist.portable(compiled) is state
    monkeypatch.setenv(persist.SIGNING_KEY, "a key")
    signed = persist.portable(compiled)
    assert signed is not state and signed.files[persist.CHECKSUMS] != state.files[persist.CHECKSUMS]
    assert persist.portable(compiled) is signed
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(compiled))(*fresh[:1]),
                                  compiled(*fresh))  # fmt: skip
    monkeypatch.delenv(persist.SIGNING_KEY)
    assert persist.portable(compiled).files == state.files


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


def test_protocol_5_carries_the_save_and_machine_code_out_of_band(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With protocol 5 a pickler that takes buffers out of band (Ray's object store) gets
    the megabytes of the save and machine code as buffers, and the stream itself is small:
    a Ray task reads them in place rather than copying them. Unpickled from buffers that are
    overwritten afterwards, the pipeline still computes: it kept copies, not the buffers.
    In band (a plain protocol-5 pickle) they are bytes."""
    fn, example, fresh = build("text")
    compiled = wm.compile(fn, example=example)
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(compiled, protocol=5, buffer_callback=buffers.append)
    raws = [bytearray(buffer.raw()) for buffer in buffers]
    assert len(stream) < 4096 < sum(map(len, raws)), (len(stream), [len(r) for r in raws])
    monkeypatch.setattr(persist, "_UNPICKLED", type(persist._UNPICKLED)())
    restored = pickle.loads(stream, buffers=[memoryview(raw).toreadonly() for raw in raws])
    for raw in raws:
        raw[:] = bytes(len(raw))
    assert restored is not compiled
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))
    state = pickle.loads(pickle.dumps(persist.portable(compiled), protocol=5))
    assert {type(raw) for raw in [*state.files.values(), *state.entries.values()]} == {bytes}


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


# region Estimators left pickled until needed


@pytest.fixture(scope="module")
def text_pipeline() -> tuple[wm.CompiledPipeline, tuple[object, ...], bytes]:
    """A fully native text pipeline (TfidfVectorizer, LogisticRegression), its fresh rows
    and its pickle."""
    fn, example, fresh = build("text")
    compiled = wm.compile(fn, example=example)
    return compiled, fresh, pickle.dumps(compiled)


def _fresh_unpickle(state: bytes, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forget the pipelines unpickled before (as a new worker would), and count from now on
    how many times a save's objects are unpickled."""
    monkeypatch.setattr(persist, "_UNPICKLED", type(persist._UNPICKLED)())
    unpickled: list[int] = []
    real = persist._read_objects

    def counting(path: Path, data: bytes) -> dict[str, object]:
        unpickled.append(len(data))
        return real(path, data)

    monkeypatch.setattr(persist, "_read_objects", counting)
    return unpickled


Unpickling = tuple[wm.CompiledPipeline, tuple[object, ...], wm.CompiledPipeline, list[int]]


@pytest.fixture
def unpickled_text(
    text_pipeline: tuple[wm.CompiledPipeline, tuple[object, ...], bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Unpickling:
    """The text pipeline, its fresh rows, the pipeline unpickled as in a new worker, and
    the sizes of the objects unpickled since (``_fresh_unpickle``)."""
    compiled, fresh, state = text_pipeline
    unpickled = _fresh_unpickle(state, monkeypatch)
    return compiled, fresh, pickle.loads(state), unpickled


def _bound(pipeline: wm.CompiledPipeline) -> list[object]:
    return [a.value for a in pipeline.arguments if a.kind == "bound"]


def test_a_native_pipeline_runs_before_its_estimators_are_unpickled(
    unpickled_text: Unpickling,
) -> None:
    compiled, fresh, restored, unpickled = unpickled_text
    docs, vectorizer, model = fresh
    np.testing.assert_array_equal(restored(docs), compiled(*fresh))
    assert "TfidfVectorizer" in restored.explain()
    markers = _bound(restored)
    assert [repr(m) for m in markers] == [
        "<vectorizer: a sklearn.feature_extraction.text.TfidfVectorizer, still pickled>",
        "<model: a sklearn.linear_model._logistic.LogisticRegression, still pickled>",
    ]
    np.testing.assert_array_equal(restored(docs, *markers), compiled(*fresh))  # stand-ins
    assert restored.__name__ == compiled.__name__ == "text"
    assert restored.__doc__ == compiled.__doc__ == "The probability that each document is positive."
    assert unpickled == [] and restored.pickled is not None
    # what needs them unpickles them, once: a row native code hands back to the original
    # function (the lowercase of a capital sigma depends on context)
    handed_back = ["ΟΔΟΣ good movie", *docs[:3]]
    np.testing.assert_array_equal(restored(handed_back), compiled(handed_back, vectorizer, model))
    assert len(unpickled) == 1 and restored.pickled is None and restored.rows_in_python == 1
    own = _bound(restored)
    assert [type(v) for v in own] == [type(vectorizer), type(model)]
    assert restored.fn.__name__ == "text"
    np.testing.assert_array_equal(restored(docs, *own), compiled(*fresh))
    np.testing.assert_array_equal(restored(docs, *markers), compiled(*fresh))  # still
    with pytest.raises(wm.InputError, match="must be the object given to wm.compile"):
        restored(docs, vectorizer, model)  # another process's estimators
    own[1].fit(vectorizer.transform(docs[:50]), np.arange(50) % 2)  # refit: watched again
    with pytest.raises(wm.InputError, match="refit"):
        restored(docs)
    assert len(unpickled) == 1


def test_a_call_with_an_estimator_unpickles_them_to_check_it(
    unpickled_text: Unpickling,
) -> None:
    _, fresh, restored, unpickled = unpickled_text
    with pytest.raises(wm.InputError, match="argument 'vectorizer' must be the object"):
        restored(*fresh)
    assert len(unpickled) == 1 and restored.pickled is None


@pytest.mark.parametrize("pickled", [False, True])
def test_an_unpickled_pipeline_saves_and_pickles_again(
    pickled: bool,
    unpickled_text: Unpickling,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Saving or pickling it again, before its estimators are unpickled (they are saved as
    they came) or after (they are pickled again), gives the same pipeline."""
    compiled, fresh, restored, unpickled = unpickled_text
    for loaded in (False, True):
        if loaded:
            assert restored.fn.__name__ == "text"  # unpickles them
        count = len(unpickled)
        restored.save(tmp_path / f"native-{loaded}")  # no pickle: nothing to unpickle
        restored.save(tmp_path / f"pickled-{loaded}", pickle=pickled)
        again = pickle.dumps(restored)
        assert len(unpickled) == count and (restored.pickled is None) == loaded
        assert wm.load(tmp_path / f"native-{loaded}").__doc__ == compiled.__doc__
        from_save = wm.load(tmp_path / f"pickled-{loaded}", trust=True)
        np.testing.assert_array_equal(from_save(fresh[0]), compiled(*fresh))
        monkeypatch.setattr(persist, "_UNPICKLED", type(persist._UNPICKLED)())
        from_pickle = pickle.loads(again)
        handed_back = ["ΟΔΟΣ good movie"]  # to the original function
        np.testing.assert_array_equal(from_pickle(handed_back), compiled(handed_back, *fresh[1:]))
        np.testing.assert_array_equal(from_pickle(fresh[0]), compiled(*fresh))


def test_an_unpickled_cascade_leaves_its_estimators_pickled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, fresh, model = optimized_linear()
    state = pickle.dumps(fast)
    unpickled = _fresh_unpickle(state, monkeypatch)
    restored = pickle.loads(state)
    np.testing.assert_array_equal(restored(fresh), fast(fresh, model))
    np.testing.assert_array_equal(restored.top_k(7, fresh), fast.top_k(7, fresh, model))
    assert unpickled == []
    own = restored.bound  # what calls pass: unpickled now
    assert len(unpickled) == 1 and type(own["model"]) is type(model)
    np.testing.assert_array_equal(restored(fresh, own["model"]), fast(fresh, model))
    top = restored.top_k(7, fresh, *own.values())
    np.testing.assert_array_equal(top, fast.top_k(7, fresh, model))
    assert restored.fn.__name__ == "linear_score" and len(unpickled) == 1


def test_damaged_objects_are_refused_when_they_are_needed(
    text_pipeline: tuple[wm.CompiledPipeline, tuple[object, ...], bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled, fresh, _ = text_pipeline
    state = persist.portable(compiled)
    raw = bytearray(state.files["objects.pkl"])
    raw[len(raw) // 2] ^= 0xFF
    damaged = replace(state, files=state.files | {"objects.pkl": bytes(raw)})
    _fresh_unpickle(b"", monkeypatch)
    restored = persist.unpickle(damaged)
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))  # native: runs
    with pytest.raises(wm.InputError, match=r"objects\.pkl changed since it was saved"):
        restored(["ΟΔΟΣ good movie"])


def test_damaged_blobs_are_refused_when_unpickling(
    text_pipeline: tuple[wm.CompiledPipeline, tuple[object, ...], bytes],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``blobs.npz`` is not hashed as a file when unpickling: its blobs are, against the
    IR's names, so a damaged blob is still refused before native code reads it: when
    unpickling if the machine code reads it, else when the IR is parsed or the pipeline is
    saved (the vectorizer's vocabulary: the passes made the tables the kernels read)."""
    compiled, fresh, _ = text_pipeline
    state = persist.portable(compiled)
    arrays = persist._read_blobs(Path("x"), state.files["blobs.npz"])
    stored = [(n, a) for n, a in arrays.items() if isinstance(a, np.ndarray)]
    read = max(stored, key=lambda item: item[1].nbytes)
    unread = next(name for name in arrays if "vocab_table" in name)
    assert callable(arrays[unread])  # deflated: no machine code reads it
    with zipfile.ZipFile(io.BytesIO(state.files["blobs.npz"])) as archive:
        member = archive.getinfo(f"{unread}.npy")
    header = member.header_offset  # the local header: 30 bytes, the name, an extra field
    lengths = struct.unpack_from("<HH", state.files["blobs.npz"], header + 26)
    middle = header + 30 + sum(lengths) + member.compress_size // 2
    for name, at in ((read[0], state.files["blobs.npz"].find(read[1].tobytes()) +
                      read[1].nbytes // 2), (unread, middle)):  # fmt: skip
        raw = bytearray(state.files["blobs.npz"])
        raw[at] ^= 0x01
        damaged = replace(state, files=state.files | {"blobs.npz": bytes(raw)})
        _fresh_unpickle(b"", monkeypatch)
        refused = pytest.raises(
            wm.InputError, match=f"blob '{name}' (does not hold the data|cannot be read)"
        )
        if name == read[0]:
            with refused:
                persist.unpickle(damaged)
            continue
        restored = persist.unpickle(damaged)
        np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))
        with refused:
            restored.ir("pipeline")
        with refused:
            restored.save(tmp_path / "save")
    extra = replace(state, files=state.files | {"extra.bin": b"x"})
    _fresh_unpickle(b"", monkeypatch)
    with pytest.raises(wm.InputError, match=r"extra\.bin changed since it was saved"):
        persist.unpickle(extra)


def test_the_ir_is_parsed_when_first_read(unpickled_text: Unpickling) -> None:
    """A program whose machine code came with the pickle runs without its IR parsed; what
    reads the IR (``ir``, ``explain``) parses it then, the same IR."""
    compiled, fresh, restored, _ = unpickled_text
    assert isinstance(restored.traced, persist._UnparsedIR) and restored.library.cache_hit
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))
    assert restored.traced._module is None  # not parsed by unpickling nor by a call
    assert restored.ir("pipeline") == compiled.ir("pipeline")
    assert restored.traced._module is restored.staged.pipeline is not None
    assert restored.original_reason is None and "TfidfVectorizer" in restored.explain()


def test_damaged_ir_and_entries_when_unpickling(
    text_pipeline: tuple[wm.CompiledPipeline, tuple[object, ...], bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The IR left unparsed is checked against its checksum all the same; a damaged entry
    (a blob that does not hash to its name, or its object code) is not taken: the IR is
    parsed and compiled (or found in this host's object cache) instead."""
    compiled, fresh, _ = text_pipeline
    state = persist.portable(compiled)
    ir = bytearray(state.files["exact.mlir"])
    ir[len(ir) // 2] ^= 0x01
    _fresh_unpickle(b"", monkeypatch)
    with pytest.raises(wm.InputError, match=r"exact\.mlir changed since it was saved"):
        persist.unpickle(replace(state, files=state.files | {"exact.mlir": bytes(ir)}))
    ((key, entry),) = state.entries.items()
    meta, blobs, _ = jit._parse_entry(bytes(entry))  # type: ignore[misc]
    blob = max(blobs.values(), key=lambda data: data.nbytes).tobytes()
    for at in (bytes(entry).find(blob) + len(blob) // 2, len(entry) - 1):
        raw = bytearray(entry)
        raw[at] ^= 0x01
        assert jit.adopt_entry(key, state.target, bytes(raw)) is None
        _fresh_unpickle(b"", monkeypatch)
        restored = persist.unpickle(replace(state, entries={key: bytes(raw)}))
        assert not isinstance(restored.traced, persist._UnparsedIR)
        np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))


# endregion


def test_a_module_this_process_cannot_import_is_named_when_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function pickled by reference whose module a worker cannot import: the native
    code runs without it; what needs it is a clear error naming the module."""
    (tmp_path / "elsewhere_only.py").write_text(
        "def trees(x, model):\n    return model.predict_proba(x)[:, 1]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import elsewhere_only

    _, example, fresh = build("trees")
    compiled = wm.compile(elsewhere_only.trees, example=example)
    state = pickle.dumps(compiled)
    monkeypatch.delitem(sys.modules, "elsewhere_only")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    _fresh_unpickle(state, monkeypatch)
    restored = pickle.loads(state)
    np.testing.assert_array_equal(restored(fresh[0]), compiled(*fresh))
    with pytest.raises(wm.InputError, match="No module named 'elsewhere_only'.*importable"):
        restored.fn(*fresh)
