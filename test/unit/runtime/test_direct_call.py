"""The short call path of pipelines of kernels over float64 matrices: same results, same
errors as the general path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm
from willump_mlir.runtime.compiled import PARALLEL_ROWS


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Probabilities within 1e-12 (the dot product sums in another order than BLAS)."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def compiled() -> tuple[wm.CompiledPipeline, object, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 4))
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] > 0)

    def score(x: np.ndarray) -> np.ndarray:
        return model.predict_proba(x)

    return wm.compile(score, (X[:8],)), model, X


def test_taken_for_contiguous_float64_rows(compiled) -> None:
    fast, model, X = compiled
    assert fast.direct is not None
    assert "goes straight to the kernel(s)" in fast.explain()
    big = np.tile(X, (PARALLEL_ROWS // len(X) + 1, 1))
    assert fast.direct((big,)) is None  # a large batch runs on every core
    close(fast(big), model.predict_proba(big))
    for rows in (X[:1], X[5:6], X[:300]):
        assert fast.direct((rows,)) is not None
        close(fast(rows), model.predict_proba(rows))


def test_other_inputs_take_the_general_path_with_its_results_and_errors(compiled) -> None:
    fast, model, X = compiled
    columns_first = np.asfortranarray(X[:3])
    assert fast.direct((columns_first,)) is None
    close(fast(columns_first), model.predict_proba(columns_first))
    assert fast.direct((X[:4].tolist(),)) is None
    with pytest.raises(wm.InputError, match="3 columns"):
        fast(X[:2, :3])
    narrow = X[:2].astype(np.float32)  # scikit-learn computes in float32: the original runs
    np.testing.assert_array_equal(fast(narrow), model.predict_proba(narrow))
    with pytest.raises(wm.InputError, match="empty batch"):
        fast(X[:0])


def test_a_run_time_error_is_reported_by_the_general_path(compiled) -> None:
    fast, model, X = compiled
    bad = X[:2].copy()
    bad[1, 2] = np.nan
    assert fast.direct((bad,)) is None
    with pytest.raises(wm.InputError, match="NaN"):
        fast(bad)
    close(fast(X[:1]), model.predict_proba(X[:1]))  # record reset


def test_not_taken_when_another_data_argument_is_not_a_matrix(compiled) -> None:
    fast, model, X = compiled
    frame = pd.DataFrame({"a": X[:, 0]})

    def score(x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(x) * table[["a"]].to_numpy()

    both = wm.compile(score, (X[:8], frame.iloc[:8]))
    assert both.direct is None
    close(both(X[:3], frame.iloc[:3]), score(X[:3], frame.iloc[:3]))


def test_taken_through_a_chain_of_kernels() -> None:
    """A large forest of generated branches behind a scaler runs in a kernel of its own,
    reading the rows the scaler's kernel wrote; the short path runs both, one after another."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 4))
    y = X[:, 0] + rng.normal(size=3000) > 0
    forest = RandomForestClassifier(n_estimators=12, max_depth=12, random_state=0)
    model = make_pipeline(StandardScaler(), forest).fit(X, y)

    def score(x: np.ndarray) -> np.ndarray:
        return model.predict_proba(x)

    fast = wm.compile(score, (X[:8],))
    assert len(fast.kernels) == 2 and fast.direct is not None
    for rows in (X[:1], X[7:8], X[:500]):
        assert fast.direct((rows,)) is not None
        np.testing.assert_array_equal(fast(rows), model.predict_proba(rows))
    bad = X[:3].copy()
    bad[2, 1] = np.inf  # refused in the second kernel: reported by the general path
    assert fast.direct((bad,)) is None
    with pytest.raises(wm.InputError, match="infinity|inf"):
        fast(bad)


# region Text arguments


@pytest.fixture(scope="module")
def texts() -> tuple[wm.CompiledPipeline, object, list[str]]:
    """word 1-2-gram TF-IDF ∪ char_wb 2-4-gram TF-IDF -> LogisticRegression on tweets, as
    trump_tweets, compiled on a list of documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    from willump_mlir.workloads import trump_tweets

    tweets, labels = trump_tweets.load_texts()
    model = make_pipeline(
        FeatureUnion([("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2)),
                      ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                               min_df=2))]),
        LogisticRegression(max_iter=500),
    ).fit(tweets[::20], labels[::20])  # fmt: skip
    return wm.compile(trump_tweets.score, (tweets[1::20][:50], model)), model, tweets[3::20]


ODD = ["", " ", "😀 😀😀", "Straße ẞ", "İstanbul", "café cafe\u0301", "字漢 한글 مرحبا",
       "x" * 5000, "RT @realDonaldTrump: https://t.co/abc #MAGA!!"]  # fmt: skip


def test_taken_for_lists_of_documents(texts) -> None:
    """One document, a few, many and odd ones, in a list or a tuple: the short path gives
    the general path's result, bit for bit (within rounding of scikit-learn's)."""
    fast, model, tweets = texts
    assert fast.direct is not None
    assert "lists or tuples of documents goes straight to the kernel(s)" in fast.explain()
    for rows in ([tweets[0]], [tweets[7]], tweets[:5], tweets[:700], ODD, [ODD[-2]],
                 tuple(tweets[10:40])):  # fmt: skip
        direct = fast.direct((rows, model))
        assert direct is not None
        general, flagged = fast.run((list(rows), model))
        assert not len(flagged)
        np.testing.assert_array_equal(direct, general[0])
        close(fast(rows, model), model.predict_proba(list(rows))[:, 1])
    assert fast.rows_in_python == 0 and fast.calls_in_python == 0


def test_other_documents_take_the_general_path(texts) -> None:
    """A row native code hands back (a capital sigma, a lone surrogate) is run and counted
    once, by the general path; a document that is not a str, an array, a Series or a batch
    too large for one thread take the general path with its results and errors."""
    fast, model, tweets = texts
    for rows in (["ΣΑΣ σας"], [tweets[0], "a\ud800b", tweets[1]]):
        assert fast.direct((rows, model)) is None
        before = fast.rows_in_python
        close(fast(rows, model), model.predict_proba(rows)[:, 1])
        assert fast.rows_in_python == before + 1
    assert fast.direct(([b"bytes"], model)) is None  # scikit-learn decodes them
    close(fast([b"bytes"], model), model.predict_proba([b"bytes"])[:, 1])
    for bad in ([tweets[0], None], [3]):
        assert fast.direct((bad, model)) is None
        with pytest.raises(AttributeError):
            model.predict_proba(bad)
        with pytest.raises(AttributeError):
            fast(bad, model)
    many = (tweets * (PARALLEL_ROWS // len(tweets) + 1))[:PARALLEL_ROWS]
    for rows in (np.array(tweets[:3], dtype=object), pd.Series(tweets[:3]), many, []):
        assert fast.direct((rows, model)) is None
    close(fast(pd.Series(tweets[:3]), model), model.predict_proba(tweets[:3])[:, 1])
    assert fast.direct(([tweets[0]], "another model")) is None


def test_text_refit_and_output_config_are_checked(texts) -> None:
    """The short path runs the refit guard: a parameter set after wm.compile, or
    scikit-learn's transform_output (the FeatureUnion would refuse its sparse matrix),
    refuse the call as on the general path."""
    import sklearn

    fast, model, tweets = texts
    with sklearn.config_context(transform_output="pandas"):
        with pytest.raises(ValueError):
            model.predict_proba(tweets[:1])
        with pytest.raises(wm.RefitError, match="transform_output"):
            fast.direct(([tweets[0]], model))
    assert fast.direct(([tweets[0]], model)) is not None
    C = model[-1].C
    model[-1].C = C * 2
    try:
        with pytest.raises(wm.RefitError, match="C"):
            fast([tweets[0]], model)
    finally:
        model[-1].C = C
    assert fast.direct(([tweets[0]], model)) is not None


def test_not_taken_for_a_text_argument_compiled_on_a_series() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    docs = pd.Series(["aa bb", "bb cc", "cc aa aa", "bb"], name="text")
    model = make_pipeline(CountVectorizer(), LogisticRegression()).fit(docs, [0, 1, 0, 1])

    def score(text: pd.Series) -> np.ndarray:
        return model.predict_proba(text)

    compiled = wm.compile(score, (docs,))
    assert compiled.direct is None
    close(compiled(docs[:2]), model.predict_proba(docs[:2]))


# endregion
