"""``OptimizedPipeline.save`` and ``wm.load``: round trips, the object-code cache, errors."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from tamper_pipelines import WritesMarker

import willump_mlir as wm
from willump_mlir.pipelines import OptimizedPipeline
from willump_mlir.runtime.marshal import InputError
from willump_mlir.runtime.optimized import Report


def score(frame: pd.DataFrame, model: LogisticRegression) -> np.ndarray:
    near = frame[["a", "b"]].to_numpy()
    far = np.log1p(np.abs(np.fliplr(frame[["c", "d", "e", "f"]].to_numpy())))  # a Python call
    return model.predict_proba(np.hstack([near, far]))[:, 1]


@dataclasses.dataclass
class Workload:
    fast: OptimizedPipeline
    model: LogisticRegression
    fresh: pd.DataFrame  # rows neither the model nor optimize saw


def rows(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Columns a and b carry most of the signal: a cheap model on them settles most rows."""
    x = rng.normal(size=(n, 6))
    noise = rng.normal(scale=0.5, size=n)
    y = (3 * x[:, 0] + 2 * x[:, 1] + np.log1p(np.abs(x[:, 2])) + noise > 0.5).astype(int)
    return pd.DataFrame(x, columns=list("abcdef")), y


@pytest.fixture(scope="module")
def workload() -> Workload:
    rng = np.random.default_rng(0)
    frame, y = rows(rng, 2400)
    x = frame.to_numpy()
    model = LogisticRegression().fit(
        np.hstack([x[:600, :2], np.log1p(np.abs(x[:600, :1:-1]))]), y[:600]
    )
    fast = wm.optimize(
        score, train=(frame[:600], model), y=y[:600], validation=(frame[600:], model),
        validation_y=y[600:], max_accuracy_loss=0.05, min_speedup=0, progress=False,
    )  # fmt: skip
    assert fast.cascaded and fast.curve is not None, fast.report()
    return Workload(fast, model, rows(np.random.default_rng(1), 700)[0])


def test_round_trip_of_a_cascade(workload: Workload, tmp_path: Path) -> None:
    fast, fresh = workload.fast, workload.fresh
    fast(fresh, workload.model)  # counted calls are part of the report
    fast.save(tmp_path / "fast")
    assert sorted(os.listdir(tmp_path / "fast")) == [
        "approx.mlir", "blobs.npz", "cascade.mlir", "checksums.json", "exact.mlir",
        "manifest.json", "objects.pkl", "rest.mlir",
    ]  # fmt: skip
    loaded = wm.load(tmp_path / "fast", trust=True)
    assert [p.library.cache_hit for p in (loaded.exact, loaded.approx, loaded.rest)] == [True] * 3
    assert loaded.report() == fast.report()
    assert loaded.ir("cascade") == fast.ir("cascade")
    # the first line says how the code was obtained: compiled, or from the cache
    assert loaded.explain().splitlines()[1:] == fast.explain().splitlines()[1:]
    model = loaded.bound["model"]
    assert model is not workload.model
    assert isinstance(model, LogisticRegression)
    np.testing.assert_array_equal(model.coef_, workload.model.coef_)
    np.testing.assert_array_equal(loaded(fresh, model), fast(fresh, workload.model))
    for k in (1, 10, 50):
        expected = fast.top_k(k, fresh, workload.model)
        np.testing.assert_array_equal(loaded.top_k(k, fresh, model), expected)
    assert loaded.report() == fast.report()  # the same calls counted on both
    one = fresh.iloc[[3]]
    np.testing.assert_array_equal(loaded(one, model), fast(one, workload.model))


CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import pandas as pd
    import willump_mlir as wm

    loaded = wm.load(sys.argv[1], trust=True)
    frame = pd.DataFrame(np.load(sys.argv[2]), columns=list("abcdef"))
    model = loaded.bound["model"]
    np.save(sys.argv[3], loaded(frame, model))
    print(json.dumps({
        "hits": [p.library.cache_hit for p in (loaded.exact, loaded.approx, loaded.rest)],
        "top": loaded.top_k(10, frame, model).tolist(),
    }))
    """
)


def test_load_in_a_new_process_reuses_the_cache(workload: Workload, tmp_path: Path) -> None:
    fast, fresh = workload.fast, workload.fresh
    fast.save(tmp_path / "fast")
    np.save(tmp_path / "rows.npy", fresh.to_numpy())
    env = dict(os.environ)  # the session's cache directory; this module importable
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    # the time limit only stops a hung child: on a busy machine starting one takes minutes
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "fast"), str(tmp_path / "rows.npy"),
         str(tmp_path / "out.npy")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result["hits"] == [True] * 3, child.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), fast(fresh, workload.model))
    assert result["top"] == fast.top_k(10, fresh, workload.model).tolist()


def test_round_trip_without_a_cascade_replaces_a_previous_save(
    workload: Workload, tmp_path: Path
) -> None:
    fast = workload.fast
    exact_only = OptimizedPipeline(
        fast.exact, None, None, None, None,
        Report(groups=[], candidates=[], reason="no cascade: for the test"), None, 0.9,
    )  # fmt: skip
    target = tmp_path / "fast"
    fast.save(target)
    exact_only.save(str(target))  # over the cascade: approx/rest/cascade files go
    assert sorted(os.listdir(target)) == [
        "blobs.npz", "checksums.json", "exact.mlir", "manifest.json", "objects.pkl"
    ]  # fmt: skip
    loaded = wm.load(str(target), trust=True)
    assert not loaded.cascaded and loaded.exact.library.cache_hit
    assert loaded.report() == exact_only.report()
    assert loaded.confidence == 0.9
    model = loaded.bound["model"]
    fresh = workload.fresh
    np.testing.assert_array_equal(loaded(fresh, model), fast.exact(fresh, workload.model))
    expected = exact_only.top_k(5, fresh, workload.model)
    np.testing.assert_array_equal(loaded.top_k(5, fresh, model), expected)


def test_save_refuses_a_directory_that_is_not_a_save(workload: Workload, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a willump-mlir save"):
        workload.fast.save(tmp_path)
    assert os.listdir(tmp_path) == ["notes.txt"]
    with pytest.raises(FileExistsError, match="not a directory"):
        workload.fast.save(tmp_path / "notes.txt")
    workload.fast.save(tmp_path / "empty")  # absent: created
    (tmp_path / "empty2").mkdir()
    workload.fast.save(tmp_path / "empty2")  # an empty directory is fine


def test_unpicklable_python_call_is_named(workload: Workload, tmp_path: Path) -> None:
    lock = threading.Lock()
    exact = copy.copy(workload.fast.exact)
    calls = {
        name: dataclasses.replace(call, function=lambda a, lock=lock: np.fliplr(a))
        for name, call in exact.traced.python_calls.items()
    }
    exact.traced = dataclasses.replace(exact.traced, python_calls=calls)
    broken = OptimizedPipeline(exact, None, None, None, None, Report([], [], ""), None)
    with pytest.raises(TypeError, match=r"py0_fliplr.*cannot be pickled.*module-level"):
        broken.save(tmp_path / "broken")
    assert not (tmp_path / "broken").exists()


def load_trusted(path: Path) -> OptimizedPipeline:
    return wm.load(path, trust=True)


def reseal(target: Path) -> None:
    """Recompute a save's checksums (its HMAC kept), as someone editing a save would."""
    checksums = json.loads((target / "checksums.json").read_text())
    checksums["files"] = {
        name: hashlib.sha256((target / name).read_bytes()).hexdigest()
        for name in sorted(os.listdir(target))
        if name != "checksums.json"
    }
    (target / "checksums.json").write_text(json.dumps(checksums))


def test_a_damaged_file_is_named(workload: Workload, tmp_path: Path) -> None:
    target = tmp_path / "fast"
    workload.fast.save(target)
    ir = (target / "exact.mlir").read_text()
    (target / "exact.mlir").write_text(ir.replace("1.0", "1.5", 1) if "1.0" in ir else ir + " ")
    (target / "notes.txt").write_text("added")
    with pytest.raises(
        InputError, match=r"damaged or edited save: exact\.mlir, notes\.txt changed"
    ):
        wm.load(target, trust=True)
    (target / "checksums.json").write_text("{")
    with pytest.raises(InputError, match=r"checksums\.json: unreadable checksums"):
        wm.load(target, trust=True)


def test_load_errors_name_the_path(workload: Workload, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no willump-mlir save"):
        wm.load(tmp_path / "absent", trust=True)
    with pytest.raises(InputError, match="no manifest.json"):
        wm.load(tmp_path, trust=True)
    saves = iter(range(100))

    def damaged(name: str, edit: object) -> Path:
        target = tmp_path / f"save{next(saves)}"
        workload.fast.save(target)
        if edit is None:
            (target / name).unlink()
        elif callable(edit):
            manifest = json.loads((target / name).read_text())
            edit(manifest)
            (target / name).write_text(json.dumps(manifest))
        else:
            (target / name).write_bytes(edit)  # type: ignore[arg-type]
        reseal(target)
        return target

    target = damaged("manifest.json", lambda m: m.update(version=99))
    with pytest.raises(InputError, match=r"manifest\.json: save format version 99"):
        wm.load(target, trust=True)
    with pytest.raises(InputError, match="saved under Python 2.7"):
        load_trusted(damaged("manifest.json", lambda m: m.update(python="2.7")))
    with pytest.raises(InputError, match="unreadable manifest"):
        load_trusted(damaged("manifest.json", b"{not json"))
    with pytest.raises(InputError, match="damaged willump-mlir save"):
        load_trusted(damaged("manifest.json", lambda m: m["programs"]["exact"].pop("arguments")))
    for specs in (['choose-tree-layout{layout="diagonal"}'], ["no-such-pass"], "nodes"):
        edit = lambda m, specs=specs: m["programs"]["exact"].update(passes=specs)  # noqa: E731
        with pytest.raises(InputError, match=r"manifest\.json: damaged .* \(passes: "):
            load_trusted(damaged("manifest.json", edit))
    target = damaged("rest.mlir", None)
    with pytest.raises(InputError, match=f"{target}: incomplete .* missing rest.mlir"):
        wm.load(target, trust=True)
    with pytest.raises(InputError, match=r"exact\.mlir: cannot parse"):
        load_trusted(damaged("exact.mlir", b"func.func @oops("))
    with pytest.raises(InputError, match=r"objects\.pkl: cannot unpickle"):
        load_trusted(damaged("objects.pkl", b"not a pickle"))
    with pytest.raises(InputError, match=r"blobs\.npz: unreadable blobs"):
        load_trusted(damaged("blobs.npz", b"not a zip"))


def tree_proba(X: np.ndarray, model: GradientBoostingClassifier) -> np.ndarray:
    return model.predict_proba(X)


def test_the_tree_layout_is_saved(tmp_path: Path) -> None:
    """``wm.compile(..., tree_layout="nodes")`` is part of the save: the loaded pipeline's
    trees walk node arrays too, where so small an ensemble gets generated branches by
    default."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    model = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0)
    model.fit(X, X[:, 0] + X[:, 1] > 0)
    assert 'layout "branches"' in wm.compile(tree_proba, (X[:50], model)).ir("feature")
    compiled = wm.compile(tree_proba, (X[:50], model), tree_layout="nodes")
    compiled.save(tmp_path / "nodes")
    manifest = json.loads((tmp_path / "nodes" / "manifest.json").read_text())
    assert manifest["programs"]["exact"]["passes"] == ['choose-tree-layout{layout="nodes"}']
    loaded = wm.load(tmp_path / "nodes")
    assert 'layout "nodes"' in loaded.ir("feature")
    np.testing.assert_array_equal(loaded(X), tree_proba(X, model))


def test_an_untrusted_save_runs_nothing(workload: Workload, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("WILLUMP_MLIR_SIGNING_KEY", raising=False)
    target = tmp_path / "fast"
    workload.fast.save(target)
    marker = tmp_path / "marker"
    (target / "objects.pkl").write_bytes(pickle.dumps(WritesMarker(marker)))
    reseal(target)
    with pytest.raises(InputError, match=r"not loaded, because it holds pickled .* trust=True"):
        wm.load(target)
    assert not marker.exists()
    with pytest.raises(InputError):  # trusted, the payload runs: the documented contract
        wm.load(target, trust=True)
    assert marker.read_text() == "ran"


def test_a_signed_save_loads_without_trust_and_detects_changes(
    workload: Workload, tmp_path: Path, monkeypatch
) -> None:
    fast, fresh = workload.fast, workload.fresh
    monkeypatch.setenv("WILLUMP_MLIR_SIGNING_KEY", "a secret of the user's")
    target = tmp_path / "fast"
    fast.save(target)
    assert json.loads((target / "checksums.json").read_text())["hmac_sha256"]
    loaded = wm.load(target)
    np.testing.assert_array_equal(loaded(fresh, loaded.bound["model"]), fast(fresh, workload.model))
    marker = tmp_path / "marker"
    payload = pickle.dumps(WritesMarker(marker))
    (target / "objects.pkl").write_bytes(payload)
    reseal(target)  # consistent checksums, but the HMAC is the old one
    with pytest.raises(InputError, match=r"signature \(checksums\.json\) does not verify"):
        wm.load(target)
    fast.save(target)
    monkeypatch.setenv("WILLUMP_MLIR_SIGNING_KEY", "another key")
    with pytest.raises(InputError, match="signature .* does not verify"):
        wm.load(target)
    monkeypatch.delenv("WILLUMP_MLIR_SIGNING_KEY")
    fast.save(target)
    monkeypatch.setenv("WILLUMP_MLIR_SIGNING_KEY", "a secret of the user's")
    with pytest.raises(InputError, match="is set but the save is not signed"):
        wm.load(target)
    assert not marker.exists()


def test_tampered_blobs_are_refused_before_native_code_sees_them(
    workload: Workload, tmp_path: Path
) -> None:
    target = tmp_path / "fast"
    workload.fast.save(target)
    with np.load(target / "blobs.npz") as archive:
        original = {name: archive[name] for name in archive.files}
    name = max(original, key=lambda n: original[n].size)
    data = original[name]
    changes = {
        "cut": data.reshape(-1)[:1],
        "float32": data.astype(np.float32) if data.dtype == np.float64 else data.astype(np.float64),
        "one value": np.where(np.arange(data.size).reshape(data.shape) == 0, data + 1, data),
    }
    for what, changed in changes.items():
        with (target / "blobs.npz").open("wb") as file:
            np.savez(file, **{**original, name: changed})
        reseal(target)
        with pytest.raises(InputError, match=rf"blob {name!r} does not hold the data"):
            wm.load(target, trust=True)
        assert what
    renamed = {**original}
    renamed["coef_0000000000000000"] = renamed.pop(name)
    with (target / "blobs.npz").open("wb") as file:
        np.savez(file, **renamed)
    reseal(target)
    with pytest.raises(InputError, match=rf"blobs\.npz: blobs \[{name!r}\] of the manifest"):
        wm.load(target, trust=True)


def test_ir_reading_a_blob_as_another_shape_is_refused(workload: Workload, tmp_path: Path) -> None:
    target = tmp_path / "fast"
    workload.fast.save(target)
    ir = (target / "exact.mlir").read_text()
    found = re.search(r"<(logisticregression_coef_[0-9a-f]+) : tensor<1x6xf64>>", ir)
    assert found is not None, ir
    wider = ir.replace(found.group(0), f"<{found.group(1)} : tensor<1x6000xf64>>")
    (target / "exact.mlir").write_text(wider)
    reseal(target)
    with pytest.raises(InputError, match=rf"blob '{found.group(1)}' is float64\[1, 6\], the IR"):
        wm.load(target, trust=True)


def test_every_file_of_a_save_damaged_is_refused(workload: Workload, tmp_path: Path) -> None:
    """Truncated, bytes flipped at the start, middle and end, removed: a clear error each."""
    target = tmp_path / "fast"
    workload.fast.save(target)
    original = {name: (target / name).read_bytes() for name in os.listdir(target)}
    for name, raw in original.items():
        edits = {
            "truncated": raw[: len(raw) // 2],
            **{f"byte {at} flipped": flip(raw, at) for at in (0, len(raw) // 2, len(raw) - 1)},
        }
        for what, edited in edits.items():
            (target / name).write_bytes(edited)
            with pytest.raises(InputError, match=f"{target}") as error:
                wm.load(target, trust=True)
            assert name in str(error.value) or "checksums.json" in str(error.value), (name, what)
        (target / name).unlink()
        with pytest.raises(InputError, match=name.replace(".", r"\.")):
            wm.load(target, trust=True)
        (target / name).write_bytes(raw)
    loaded = wm.load(target, trust=True)  # restored: loads and agrees
    fresh = workload.fresh
    np.testing.assert_array_equal(
        loaded(fresh, loaded.bound["model"]), workload.fast(fresh, workload.model)
    )


def flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :]


def test_every_blob_resized_or_retyped_is_refused(workload: Workload, tmp_path: Path) -> None:
    """Edits made consistent with the checksums: the blob checks still refuse each one."""
    target = tmp_path / "fast"
    workload.fast.save(target)
    with np.load(target / "blobs.npz") as archive:
        original = {name: archive[name] for name in archive.files}
    for name, data in original.items():
        other = np.float32 if data.dtype != np.float32 else np.float64
        for what, edited in {
            "one more": np.append(data, data.reshape(-1)[:1]),
            "one less": data.reshape(-1)[:-1],
            "retyped": data.astype(other),
            "reshaped": data.reshape(-1, 1),
        }.items():
            with (target / "blobs.npz").open("wb") as file:
                np.savez(file, **{**original, name: edited})
            reseal(target)
            with pytest.raises(InputError, match=f"blob '{name}'"):
                wm.load(target, trust=True)
            assert what


def test_blobs_are_read_in_place_as_numpy_wrote_them(tmp_path: Path) -> None:
    """``blobs.npz`` is read without copies (read-only views of the file's bytes), with
    numpy's own results for every kind of array ``np.savez`` writes, a deflated member
    when it is read; anything else is an ``InputError`` naming the file."""
    from willump_mlir import persist
    from willump_mlir.blobs import BlobError, immutable

    arrays = {
        "coef_0123456789abcdef": np.arange(10.0),
        "empty": np.zeros((0, 3)),
        "ints": np.arange(12, dtype=np.int32).reshape(3, 4),
        "scalar": np.array(5.0),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "bytes": np.ones(7, np.uint8),
    }
    np.savez(tmp_path / "blobs.npz", **arrays)
    data = (tmp_path / "blobs.npz").read_bytes()
    read = persist._read_blobs(tmp_path / "blobs.npz", data)
    assert list(read) == list(arrays)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape
        np.testing.assert_array_equal(read[name], array)
        assert immutable(read[name])
    np.savez_compressed(tmp_path / "compressed.npz", coef=np.arange(300.0))
    packed = (tmp_path / "compressed.npz").read_bytes()
    inflate = persist._read_blobs(tmp_path / "compressed.npz", packed)["coef"]
    assert callable(inflate)  # deflated (a pickle's unread blobs): inflated when read
    np.testing.assert_array_equal(inflate(), np.arange(300.0))
    damaged_member = bytearray(packed)
    damaged_member[packed.index(b"coef.npy") + 40] ^= 0xFF  # in its deflated bytes
    with pytest.raises(BlobError, match="blob 'coef' cannot be read"):
        persist._read_blobs(tmp_path / "compressed.npz", bytes(damaged_member))["coef"]()
    np.savez(tmp_path / "objects.npz", names=np.array(["a", None], dtype=object))
    broken = {
        "truncated": data[: len(data) // 2],
        "objects": (tmp_path / "objects.npz").read_bytes(),
        "not a zip": b"PK" + bytes(100),
        "a longer shape": data.replace(b"'shape': (10,)", b"'shape': (99,)"),
        "a negative shape": data.replace(b"'shape': (10,)", b"'shape': (-1,)"),
    }
    assert data not in (broken["a longer shape"], broken["a negative shape"])
    for damaged in broken.values():
        with pytest.raises(InputError, match=r"blobs\.npz: unreadable blobs"):
            persist._read_blobs(tmp_path / "blobs.npz", damaged)
