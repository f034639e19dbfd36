"""TF-IDF rows read only by a linear model are weighed, normalised and dotted in one pass
over the counted terms (``text_kernels.weigh_and_dot``), or, for counts times idf with the
l2 norm, tallied into the decision values as the terms are counted (``text_kernels.Tally``:
each occurrence adds ``idf * coef`` and grows the squared norm; a cached char_wb word adds
its words' sums at once): compiled and original agree on every row for each option of the
vectorizer, on adversarial text, and in the errors they raise.

The kernels divide by the norm once, where scikit-learn divides each weight first, and sum
in another order: the probabilities differ by rounding only (``ATOL``), and not at all
between calls (the char_wb word cache, full or empty, does not change the order of the
sums)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

import willump_mlir as wm
from willump_mlir.passes import text_kernels
from willump_mlir.selfcheck import difference
from willump_mlir.workloads import trump_tweets

ATOL = 1e-12
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis" * 2  # past the cached 64
ODD = [
    "", " ", "a", "ab", "I", "\u3000\t\n", "😀", "😀😀 😀😀 😀😀", "Straße STRASSE ẞ",
    "ΣΑΣ σας", "İstanbul i̇", "café cafe\u0301 CAFÉ", "字漢 한글 مرحبا שלום", "Ａｂｃ ｆｕｌｌ",
    LONG_WORD, f"{LONG_WORD} {LONG_WORD}x", "the the the the the", "great " * 3000,
    " ".join(["word"] * 500 + ["other"] * 500), "RT @realDonaldTrump: https://t.co/abc #MAGA!!",
]  # fmt: skip


@pytest.fixture(scope="module")
def texts() -> tuple[list[str], np.ndarray, list[str]]:
    """Training tweets (with the odd strings), their labels, held-out tweets and odd strings."""
    tweets, labels = trump_tweets.load_texts()  # in time order: every 9th, both classes
    train = tweets[::9][:1500] + ODD
    held_out = tweets[4::9][:800] + ODD
    return train, np.concatenate([labels[::9][:1500], np.arange(len(ODD)) % 2 == 0]), held_out


def check(compiled: Any, score: Any, rows: list[str]) -> None:
    got, want = compiled(rows), score(rows)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    for k in (0, len(rows) // 2, len(rows) - 1):  # one row at a time
        np.testing.assert_allclose(compiled(rows[k : k + 1]), want[k : k + 1], rtol=0, atol=ATOL)


def word_and_char_wb(rows: list[str], labels: np.ndarray) -> Any:
    """Word 1-2-gram TF-IDF ∪ char_wb 2-4-gram TF-IDF (``min_df=2``) → LogisticRegression,
    fitted on ``rows``."""
    union = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2)),
    ])  # fmt: skip
    return make_pipeline(union, LogisticRegression(max_iter=300)).fit(rows, labels)


def fused(compiled: Any) -> bool:
    """Whether the kernels go from counts to the decision in one pass: no buffers of term
    ids and values between the ops."""
    ir = compiled.ir("scf")
    return ".counts" in ir and '.values"' not in ir


def tallied(compiled: Any) -> bool:
    """Whether the counts go straight into the decision values (no bitmap of terms)."""
    ir = compiled.ir("scf")
    return ".stamp" in ir and '.bits"' not in ir


@pytest.mark.parametrize(
    "vectorizer",
    [
        TfidfVectorizer(),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2),
        TfidfVectorizer(ngram_range=(1, 2), norm="l1"),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), norm=None),
        TfidfVectorizer(ngram_range=(1, 2), use_idf=False),
        TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), binary=True, smooth_idf=False),
        TfidfVectorizer(lowercase=False, stop_words=["the", "a"], max_features=300),
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3)),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), use_idf=False),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(5, 6), strip_accents="unicode"),
    ],
    ids=lambda v: repr(v.get_params(deep=False)["analyzer"]),
)
def test_tfidf_into_logistic_regression(texts: Any, vectorizer: Any) -> None:
    train, labels, held_out = texts
    model = make_pipeline(vectorizer, LogisticRegression(max_iter=300)).fit(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert fused(compiled)
    check(compiled, score, held_out)


def test_union_multiclass_decision_function(texts: Any) -> None:
    """Two TF-IDF rows (each its own norm) into three classes' decision values."""
    train, _, held_out = texts
    classes = np.arange(len(train)) % 3
    model = word_and_char_wb(train, classes)

    def decide(rows: list[str]) -> np.ndarray:
        return model.decision_function(rows)

    def predict(rows: list[str]) -> np.ndarray:
        return model.predict(rows)

    compiled = wm.compile(decide, (train[:20],))
    assert fused(compiled)
    check(compiled, decide, held_out)
    labels = wm.compile(predict, (train[:20],))
    np.testing.assert_array_equal(labels(held_out), predict(held_out))


def test_results_do_not_depend_on_the_word_cache(texts: Any) -> None:
    """The same rows give the same bits with the char_wb word cache empty, warm, or
    holding other rows' words, in a batch or one row at a time."""
    train, labels, held_out = texts
    model = word_and_char_wb(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert fused(compiled)
    cold = compiled(held_out)
    np.testing.assert_array_equal(compiled(held_out), cold)
    compiled(train)
    np.testing.assert_array_equal(compiled(held_out[::-1])[::-1], cold)
    for k in (0, 7, len(held_out) - 1):
        np.testing.assert_array_equal(compiled(held_out[k : k + 1]), cold[k : k + 1])
    np.testing.assert_allclose(cold, score(held_out), rtol=0, atol=ATOL)


def test_matrix_also_returned_is_not_fused(texts: Any) -> None:
    """A TF-IDF matrix the function also returns keeps scikit-learn's exact CSR matrix."""
    train, labels, held_out = texts
    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(train)
    model = LogisticRegression(max_iter=300).fit(vectorizer.transform(train), labels)

    def both(rows: list[str]) -> tuple[Any, np.ndarray]:
        matrix = vectorizer.transform(rows)
        return matrix, model.predict_proba(matrix)[:, 1]

    compiled = wm.compile(both, (train[:20],))
    got, want = compiled(held_out), both(held_out)
    assert sp.issparse(got[0])
    np.testing.assert_array_equal(got[0].indptr, want[0].indptr)
    np.testing.assert_array_equal(got[0].indices, want[0].indices)
    np.testing.assert_array_equal(got[0].data, want[0].data)
    np.testing.assert_allclose(got[1], want[1], rtol=0, atol=ATOL)


def test_no_rows_and_rows_without_terms(texts: Any) -> None:
    train, labels, _ = texts
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300)).fit(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    with pytest.raises(ValueError, match="0 sample"):
        score([])
    with pytest.raises(ValueError, match="0 sample"):
        compiled([])
    check(compiled, score, ["", "zzzzqqq", "  ", "zzzzqqq the"])


@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("norm", ["l2", None])
def test_non_finite_idf_stops_the_batch_as_in_sklearn(texts: Any, bad: float, norm: Any) -> None:
    """A non-finite idf (set by hand) makes the weights of a row holding the term
    non-finite: scikit-learn's normaliser, or without a norm the model, refuses the batch."""
    train, labels, _ = texts
    model = with_idf(TfidfVectorizer(norm=norm), train, labels, "great", bad)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (["the cat", "a dog"],))
    rows = ["the cat", "a great dog"]
    kind = "NaN" if np.isnan(bad) else "infinity"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=f"Input (X )?contains {kind}"):
            score(rows)
        with pytest.raises(wm.InputError, match=f"row 1: Input X contains {kind}"):
            compiled(rows)
    check(compiled, score, ["the cat", "a dog", ""])


def with_idf(vectorizer: TfidfVectorizer, train: list[str], labels: Any, term: str,
             idf: float) -> Any:  # fmt: skip
    """``vectorizer`` -> LogisticRegression fitted on ``train``, then ``term``'s idf set to
    ``idf`` by hand."""
    model = make_pipeline(vectorizer, LogisticRegression(max_iter=300)).fit(train, labels)
    idfs = vectorizer.idf_.copy()
    idfs[vectorizer.vocabulary_[term]] = idf
    vectorizer.idf_ = idfs
    return model


@pytest.mark.parametrize("analyzer", ["char_wb", "char"])
def test_char_terms_renumbered_by_idf(texts: Any, analyzer: str) -> None:
    """Tallied char and char_wb terms are numbered from the lowest idf on (the vocabulary
    table and the per-term records renumbered at lowering): n-grams of up to six code
    points (longer terms found by their code points), many equal idfs, three classes;
    the same values as scikit-learn in any order and one row at a time."""
    train, _, held_out = texts
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=(3, 6), min_df=1)
    model = make_pipeline(vectorizer, LogisticRegression(max_iter=300))
    model.fit(train, np.arange(len(train)) % 3)
    assert len(set(vectorizer.idf_)) < len(vectorizer.idf_) / 10  # ties

    def decide(rows: list[str]) -> np.ndarray:
        return model.decision_function(rows)

    compiled = wm.compile(decide, (train[:20],))
    assert tallied(compiled)
    rows = held_out + ["pneumonoultra", "ultra pneumono", "a" * 70, "😀😀😀😀😀😀"]
    cold = compiled(rows)
    np.testing.assert_allclose(cold, decide(rows), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(rows[::-1])[::-1], cold)
    for k in (0, len(rows) - 1):
        np.testing.assert_array_equal(compiled(rows[k : k + 1]), cold[k : k + 1])


@pytest.mark.parametrize("bad", [np.inf, np.nan, 1e200])
def test_char_wb_non_finite_or_huge_idf_after_renumbering(texts: Any, bad: float) -> None:
    """A non-finite idf on a char_wb term (set by hand, so it sorts last or first when the
    terms are renumbered) stops the batch as scikit-learn does; a huge finite one overflows
    the squared norm and the row runs in Python."""
    train, labels, _ = texts
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    model = with_idf(vectorizer, train, labels, "grea", bad)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (["the cat", "a dog"],))
    assert tallied(compiled)
    rows = ["the cat", "a great dog", "", "dog"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if bad == 1e200:
            assert difference(score(rows), compiled(rows)) is None
            assert compiled.rows_in_python == 1
            return
        kind = "NaN" if np.isnan(bad) else "infinity"
        with pytest.raises(ValueError, match=f"Input (X )?contains {kind}"):
            score(rows)
        with pytest.raises(wm.InputError, match=f"row 1: Input X contains {kind}"):
            compiled(rows)
    check(compiled, score, ["the cat", "a dog", ""])


def test_count_vectorizer_into_model_counts_in_column_order(texts: Any) -> None:
    """Counts read directly by the model (no ``weight_terms``) keep the bitmap drain."""
    train, labels, held_out = texts
    model = make_pipeline(CountVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=300))
    model.fit(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert not fused(compiled)
    check(compiled, score, held_out)


def words(rng: np.random.Generator, count: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéü字😀ßİ"))
    return ["".join(rng.choice(letters, size=rng.integers(1, 30))) for _ in range(count)]


def test_tallied_rows_through_a_small_word_cache(
    texts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tally through a char_wb word cache of 2^14 entries, soon full and emptied again
    and again (each slot also holding the word's sums, one per class): three classes,
    repeated and distinct words, words of 64 and 65 code points, adversarial text; the bits
    do not change between calls, in a batch or one row at a time."""
    monkeypatch.setattr(text_kernels, "WORD_CACHE_ROOM", 1 << 14)
    monkeypatch.setattr(text_kernels, "WORD_CACHE_PATIENCE", 1 << 6)
    rng = np.random.default_rng(3)
    train, _, held_out = texts
    many = words(rng, 3000)
    edge = ["q" * 64, "q" * 65, "q" * 63 + "r", "ab" * 32, "ab" * 33, "aaaa", "aaa", "aa"]
    extra = [" ".join(many[k : k + 30]) for k in range(0, 3000, 30)] + [" ".join(edge)]
    fit_rows = train + extra
    model = word_and_char_wb(fit_rows, np.arange(len(fit_rows)) % 3)

    def decide(rows: list[str]) -> np.ndarray:
        return model.decision_function(rows)

    compiled = wm.compile(decide, (train[:20],))
    assert tallied(compiled)
    rows = [" ".join(rng.choice(many, size=rng.integers(0, 40))) for _ in range(600)]
    rows += held_out + [" ".join(edge), " ".join(reversed(edge)), "", "   ", "Q" * 65]
    cold = compiled(rows)
    np.testing.assert_allclose(cold, decide(rows), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(rows[::-1])[::-1], cold)
    np.testing.assert_array_equal(compiled(rows), cold)
    for k in (0, 600, len(rows) - 3):
        np.testing.assert_array_equal(compiled(rows[k : k + 1]), cold[k : k + 1])


@pytest.mark.parametrize("slots", [4, 8])
def test_word_cache_sets_fill_and_take_new_words_in_their_last_slot(
    texts: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, slots: int
) -> None:
    """A char_wb word cache of one or two sets of four slots: the sets fill at once, each
    new word then takes a full set's last slot (the first three stay), words collide in
    their set and in the high half of the hash they store by chance only; a word found
    in any slot adds its stored sums. The same bits in any order and one row at a time,
    and the same values as scikit-learn."""
    monkeypatch.setattr(text_kernels, "WORD_CACHE_SLOTS", slots)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))  # not the default's object
    train, labels, held_out = texts
    model = word_and_char_wb(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert tallied(compiled)
    few = ["the", "great", "and", "is", "to", "of"]  # more than a set holds, again and again
    rows = [" ".join(few[k % 6 :] + few[: k % 6]) for k in range(12)] + held_out
    cold = compiled(rows)
    np.testing.assert_allclose(cold, score(rows), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(rows), cold)
    np.testing.assert_array_equal(compiled(rows[::-1])[::-1], cold)
    for k in (0, 5, 12, len(rows) - 1):
        np.testing.assert_array_equal(compiled(rows[k : k + 1]), cold[k : k + 1])


def test_sums_overflowing_from_finite_weights_run_in_python(texts: Any) -> None:
    """An idf of 1e200 (set by hand) keeps the weights finite but overflows the squared
    norm: scikit-learn divides by an infinite norm; the tally hands the row to Python."""
    train, labels, _ = texts
    model = with_idf(TfidfVectorizer(), train, labels, "great", 1e200)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (["the cat", "a dog"],))
    assert tallied(compiled)
    rows = ["the cat", "a great dog", "", "great great", "dog"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert difference(score(rows), compiled(rows)) is None
    assert compiled.rows_in_python == 2
    assert "overflow" in compiled.explain()


def test_missing_documents_fail_as_in_sklearn(texts: Any) -> None:
    train, labels, _ = texts
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300)).fit(train, labels)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert tallied(compiled)
    for bad in (None, np.nan):
        with pytest.raises((AttributeError, ValueError)):
            score(["ok", bad])
        with pytest.raises(wm.InputError, match="row 1"):
            compiled(["ok", bad])


def test_tally_stamps_restart(
    texts: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A tally's counts start each row from a stamp: with the stamp's limit at 40, the counts
    are zeroed and the stamp restarted every few rows, and rows repeat terms far more often
    than that (within a word, across words, across the word and char_wb vectorizers):
    three classes, the same bits in any order and one row at a time."""
    monkeypatch.setattr(text_kernels, "STAMP_LIMIT", 40)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))  # not another limit's object
    train, _, held_out = texts
    model = word_and_char_wb(train, np.arange(len(train)) % 3)

    def decide(rows: list[str]) -> np.ndarray:
        return model.decision_function(rows)

    compiled = wm.compile(decide, (train[:20],))
    assert tallied(compiled)
    rows = held_out[:300] + ["the " * 60, "ab ab ab", "aaaa aaaa", "", "great " * 50, "a"]
    rows += [" ".join(held_out[k : k + 4]) for k in range(0, 80, 4)]
    cold = compiled(rows)
    np.testing.assert_allclose(cold, decide(rows), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(rows[::-1])[::-1], cold)
    for k in (0, 301, len(rows) - 1):
        np.testing.assert_array_equal(compiled(rows[k : k + 1]), cold[k : k + 1])


@pytest.mark.parametrize("slots", [4, text_kernels.WORD_CACHE_SLOTS])
def test_word_cache_keys_exact_and_hashed(
    texts: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, slots: int
) -> None:
    """char_wb words are keyed by their code points a byte apiece up to seven below 256
    (exact: no code points compared) and by their FNV-1a past that: words on each side of
    both limits, NUL and U+00FF/U+0100 code points, prefixes of one another and words of
    one letter, in one set of four slots (every word in it) and in the full cache; the
    same values as scikit-learn, the same bits in any order and one row at a time."""
    monkeypatch.setattr(text_kernels, "WORD_CACHE_SLOTS", slots)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))  # not the default's object
    train, labels, held_out = texts
    edge = [
        "abcdefg", "abcdefgh", "abcdefgx", "abcdef", "bcdefg", "a", "ab", "\x00ab", "a\x00b",
        "ab\x00", "\x00", "\x00" * 7, "\x00" * 8, "ÿÿÿÿÿÿÿ", "ÿÿÿÿÿÿÿÿ", "ÿÿĀ", "ÿÿÿ", "ĀĀĀĀĀĀĀ",
        "q" * 64, "q" * 65, "é" * 7, "😀" * 3, "great!", "great", "GREAT",
    ]  # fmt: skip
    fit_rows = train + [" ".join(edge[k:] + edge[:k]) for k in range(len(edge))]
    model = word_and_char_wb(fit_rows, np.arange(len(fit_rows)) % 2 == 0)

    def score(rows: list[str]) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    compiled = wm.compile(score, (train[:20],))
    assert tallied(compiled)
    rows = [" ".join(edge[k::3]) for k in range(3)] + edge + ["", "  \t ", " ".join(edge) * 2]
    rows += held_out[:200]
    cold = compiled(rows)
    np.testing.assert_allclose(cold, score(rows), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(rows[::-1])[::-1], cold)
    np.testing.assert_array_equal(compiled(rows), cold)
    for k in range(len(edge) + 6):
        np.testing.assert_array_equal(compiled(rows[k : k + 1]), cold[k : k + 1])
