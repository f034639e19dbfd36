"""The on-disk object-code cache: hits in this process and in a new one, misses on change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import willump_mlir as wm

# The same deterministic pipeline, built in this process and in a fresh one.
BUILD = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler


    def build(seed):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame({
            "x": rng.normal(size=400), "y": rng.lognormal(size=400),
            "city": rng.choice(["Oslo", "Lima", "Zürich", "東京"], size=400).astype(object),
        })
        frame.loc[::7, "x"] = np.nan
        target = (frame["x"].fillna(0) + (frame["city"] == "Lima") > 0.2).to_numpy()
        model = Pipeline([
            ("features", ColumnTransformer([
                ("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]),
                 ["x", "y"]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ])),
            ("lr", LogisticRegression()),
        ]).fit(frame, target)
        return frame, model


    def score_here(frame, model):
        # the same function name as in the parent: it is part of the pipeline IR (the key)
        return model.predict_proba(frame)[:, 1]
    """
)

CHILD = BUILD + textwrap.dedent(
    """
    import json, sys
    import willump_mlir as wm
    from llvm_runs import COMPILED

    frame, model = build(int(sys.argv[1]))
    compiled = wm.compile(score_here, example=(frame.iloc[:100], model))
    diff = float(np.max(np.abs(compiled(frame, model) - score_here(frame, model))))
    print(json.dumps({"hit": compiled.library.cache_hit, "llvm_runs": len(COMPILED),
                      "diff": diff}))
    """
)

namespace: dict = {}
exec(compile(BUILD, "<test_cache BUILD>", "exec"), namespace)
build = namespace["build"]


def score_here(frame, model):
    return model.predict_proba(frame)[:, 1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache directory of this test's own, so the first compile is always cold."""
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))
    return tmp_path


def run_child(seed: int, cache: Path) -> subprocess.CompletedProcess:
    """Compile the seed's pipeline in a new Python process sharing ``cache``.

    The script is a file (``wm.compile`` reads the function's source) outside the cache.
    """
    script = cache.parent / f"{cache.name}-child.py"
    script.write_text(CHILD)
    env = {**os.environ, "WILLUMP_MLIR_CACHE_DIR": str(cache),
           "PYTHONPATH": str(Path(__file__).resolve().parent)}  # llvm_runs
    code = f"import runpy, sys; sys.argv = ['child', '{seed}']; runpy.run_path({str(script)!r})"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def child(seed: int, cache: Path) -> dict:
    done = run_child(seed, cache)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def exact(compiled, frame: pd.DataFrame, model) -> None:
    np.testing.assert_allclose(compiled(frame, model), score_here(frame, model), atol=1e-9, rtol=0)
    for i in (0, 5, len(frame) - 1):
        row = frame.iloc[[i]]
        np.testing.assert_allclose(compiled(row, model), score_here(row, model), atol=1e-9, rtol=0)


def test_second_compile_is_a_hit_in_process_and_in_a_new_process(cache) -> None:
    frame, model = build(11)
    cold = wm.compile(score_here, example=(frame.iloc[:100], model))
    assert not cold.library.cache_hit
    assert list(cache.glob("*.wobj")), "nothing was written to the cache"
    exact(cold, frame, model)

    warm = wm.compile(score_here, example=(frame.iloc[:100], model))
    assert warm.library.cache_hit
    assert "cache hit" in repr(warm)
    assert "loaded from the object-code cache" in warm.explain()
    exact(warm, frame, model)
    # stages are still available from a cache hit
    assert "llvm.func" in warm.ir("llvm")

    result = child(11, cache)
    assert result["hit"] is True
    assert result["diff"] <= 1e-9
    assert result["llvm_runs"] == 0, result  # the hit loads object code: no LLVM run


def test_new_process_fills_the_cache_for_this_one(cache) -> None:
    result = child(12, cache)
    assert result["hit"] is False
    assert result["llvm_runs"] > 0, result
    assert result["diff"] <= 1e-9
    frame, model = build(12)
    compiled = wm.compile(score_here, example=(frame.iloc[:100], model))
    assert compiled.library.cache_hit
    exact(compiled, frame, model)


def test_different_fitted_parameters_miss(cache) -> None:
    frame, model = build(21)
    first = wm.compile(score_here, example=(frame.iloc[:100], model))
    other_frame, other_model = build(22)  # same structure and width, other coefficients
    second = wm.compile(score_here, example=(other_frame.iloc[:100], other_model))
    assert not first.library.cache_hit
    assert not second.library.cache_hit
    exact(first, frame, model)
    exact(second, other_frame, other_model)
    exact(second, frame, other_model)
    # a refit changing a single coefficient also misses
    tweaked, tweaked_model = build(21)
    tweaked_model.named_steps["lr"].coef_ = tweaked_model.named_steps["lr"].coef_.copy()
    tweaked_model.named_steps["lr"].coef_[0, 0] += 1e-12
    third = wm.compile(score_here, example=(tweaked.iloc[:100], tweaked_model))
    assert not third.library.cache_hit
    exact(third, tweaked, tweaked_model)


def test_other_function_same_pipeline_other_method_misses(cache) -> None:
    frame, model = build(31)
    wm.compile(score_here, example=(frame.iloc[:100], model))

    def labels(frame, model):
        return model.predict(frame)

    compiled = wm.compile(labels, example=(frame.iloc[:100], model))
    assert not compiled.library.cache_hit
    np.testing.assert_array_equal(compiled(frame, model), model.predict(frame))


def test_empty_cache_entry_is_a_miss(cache) -> None:
    frame, model = build(41)
    wm.compile(score_here, example=(frame.iloc[:100], model))
    for path in cache.iterdir():
        path.write_bytes(b"")
    compiled = wm.compile(score_here, example=(frame.iloc[:100], model))
    assert not compiled.library.cache_hit
    exact(compiled, frame, model)


def test_truncated_cache_entry_is_a_miss(cache) -> None:
    # In a child process: a crash must not take pytest down with it.
    assert child(42, cache)["hit"] is False
    entries = list(cache.glob("*.wobj"))
    assert entries
    for path in entries:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    done = run_child(42, cache)
    assert done.returncode == 0, f"child exited with {done.returncode}: {done.stderr[-2000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hit"] is False and result["diff"] <= 1e-9


def test_a_changed_byte_anywhere_in_the_entry_is_a_miss(cache) -> None:
    frame, model = build(43)
    wm.compile(score_here, example=(frame.iloc[:100], model))
    (entry,) = cache.glob("*.wobj")
    raw = entry.read_bytes()
    width = raw.index(b'width') + 9  # an output's width, in the plan stored with the object
    for at in (len(raw) - 1, width, 20):  # object code, plan, digest
        entry.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :])
        compiled = wm.compile(score_here, example=(frame.iloc[:100], model))
        assert not compiled.library.cache_hit, at
        exact(compiled, frame, model)
        assert entry.read_bytes() == raw  # the recompile stored a sound entry again


def compile_without_cache(frame: pd.DataFrame, model) -> list[warnings.WarningMessage]:
    """Compile twice; the warnings the two compiles gave (the same one twice would be noise)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            compiled = wm.compile(score_here, example=(frame.iloc[:100], model))
            assert not compiled.library.cache_hit
            exact(compiled, frame, model)
    return [w for w in caught if issubclass(w.category, wm.CacheWarning)]


def test_a_cache_path_that_cannot_be_created_compiles_with_one_warning(tmp_path, monkeypatch):
    file = tmp_path / "a-file"
    file.write_text("not a directory")
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(file / "cache"))
    (warning,) = compile_without_cache(*build(44))
    assert "object cache disabled: cannot create" in str(warning.message)
    assert str(file / "cache") in str(warning.message)


def test_a_cache_others_can_write_is_not_used(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(shared))
    (warning,) = compile_without_cache(*build(45))
    assert "can be written by users other than its owner (mode 777" in str(warning.message)
    assert not list(shared.iterdir()), "nothing may be written to or read from it"


def test_threads_compiling_the_same_new_pipeline_all_succeed(cache) -> None:
    frame, model = build(47)

    def compile_and_score(_: int) -> np.ndarray:
        return wm.compile(score_here, example=(frame.iloc[:100], model))(frame, model)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(compile_and_score, range(16)))
    for result in results:
        np.testing.assert_allclose(result, score_here(frame, model), atol=1e-9, rtol=0)
    assert len(list(cache.glob("*.wobj"))) == 1
    assert not list(cache.glob(".tmp-*")), "a temporary file was left behind"
