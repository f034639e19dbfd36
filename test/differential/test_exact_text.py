"""Differential tests for text pipelines: compiled and original agree on every row.

Vectorizers that return their matrix must give scikit-learn's CSR matrix exactly: the same
``indptr``, ``indices``, dtype and bit-identical ``data``. Pipelines ending in a
linear model must give the same probabilities up to rounding (a TF-IDF row only the
model reads is normalised after its dot product: ``test_text_fused_linear``). Inputs:
real tweets and BBC News articles, adversarial Unicode (every white-space character,
combining marks, ligatures, final sigma, dotted capital I, CJK, right-to-left scripts,
emoji, empty strings, a very long row), and hypothesis-generated lists of such strings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

import willump_mlir as wm
from willump_mlir.abi import ROW_HANDOFFS
from willump_mlir.frontend.text_tables import CLASS_SPACE, char_classes
from willump_mlir.passes import text_kernels
from willump_mlir.workloads import bbc_news, trump_tweets

ATOL = 1e-12
HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

WHITESPACE = "".join(chr(c) for c in np.flatnonzero(char_classes() & CLASS_SPACE))
SPECIAL = "İıΣσςßẞﬁﬀ½²é\u0301\u0345\u0334ÅÆŒ字漢한글مرحباשלום😀🇺🇸👍🏽Ａｂｃ\ufdfa_0123ǅǄⅠⅰΐ\u1e9eẞ"
ALPHABET = st.sampled_from(list("abcXYZ .,!#@'-") + list(WHITESPACE) + list(SPECIAL))
TEXTS = st.lists(st.text(alphabet=ALPHABET, max_size=40), min_size=1, max_size=8)

ADVERSARIAL = [
    "",
    " ",
    WHITESPACE,
    "a",
    "ab",
    "Hello, World! hello_world HELLO",
    "İstanbul İİ i̇",
    "ΣΑΣ σας ΌΣΟΣ Σ",
    "Straße STRASSE ẞ",
    "ﬁnance ½ ² ﬀ",
    "café cafe\u0301 CAFÉ naïve",
    "字漢 한글 مرحبا שלום",
    "😀😀 🇺🇸 👍🏽 emoji",
    "Ａｂｃ ｆｕｌｌ",
    "\ufdfa",
    "tab\there\nnew  line\u3000ideographic\u00a0nbsp",
    "x" * 5000,
    " ".join(["word"] * 2000),
]


def tweets() -> list[str]:
    texts, _ = trump_tweets.load_texts()
    return texts


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    """Training text (tweets plus the adversarial strings) and held-out tweets."""
    texts = tweets()
    return texts[:1500] + ADVERSARIAL, texts[1500:2500]


# region Comparison


def assert_same_csr(got: Any, want: Any) -> None:
    assert isinstance(got, sp.csr_matrix), type(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.dtype)
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def assert_same(got: Any, want: Any) -> None:
    if sp.issparse(want):
        assert_same_csr(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def check(compiled: Any, fn: Callable[[list[str]], Any], texts: list[str]) -> None:
    """The batch, then a few single rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(compiled(texts), fn(texts))
        for i in np.linspace(0, len(texts) - 1, 4).astype(int):
            assert_same(compiled(texts[i : i + 1]), fn(texts[i : i + 1]))


def answered_once(fn: Callable[[list[str]], Any]) -> Callable[[list[str]], Any]:
    """``fn`` computing each distinct batch once: the original's answer to compare repeated
    compiled calls with."""
    known: dict[tuple[str, ...], Any] = {}

    def original(texts: list[str]) -> Any:
        key = tuple(texts)
        if key not in known:
            known[key] = fn(texts)
        return known[key]

    return original


# endregion
# region The option matrix

VECTORIZERS: dict[str, Callable[[], Any]] = {
    "word": lambda: TfidfVectorizer(),
    "word_options": lambda: TfidfVectorizer(
        ngram_range=(1, 3),
        lowercase=False,
        stop_words=["the", "a", "to", "RT"],
        binary=True,
        norm="l1",
    ),  # fmt: skip
    "word_english": lambda: TfidfVectorizer(
        stop_words="english", strip_accents="ascii", sublinear_tf=True, smooth_idf=False
    ),
    "char_unicode": lambda: TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), strip_accents="unicode", use_idf=False, norm=None
    ),
    "char_f32": lambda: TfidfVectorizer(
        analyzer="char", ngram_range=(2, 5), dtype=np.float32, sublinear_tf=True
    ),
    "char_wb": lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)),
    "char_wb_long": lambda: TfidfVectorizer(
        analyzer="char_wb", ngram_range=(4, 6), strip_accents="unicode"
    ),
    "char_wb_f32": lambda: TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), lowercase=False, dtype=np.float32, binary=True
    ),
    "count_word": lambda: CountVectorizer(ngram_range=(1, 2)),
    "count_char_wb": lambda: CountVectorizer(analyzer="char_wb", binary=True, dtype=np.float32),
    "count_tfidf": lambda: make_pipeline(CountVectorizer(), TfidfTransformer(sublinear_tf=True)),
    "hashing_word": lambda: HashingVectorizer(ngram_range=(1, 2)),
    "hashing_char_wb": lambda: HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 3),
        n_features=2**10,
        alternate_sign=False,
        norm="l1",
        binary=True,
    ),  # fmt: skip
    "hashing_tiny": lambda: HashingVectorizer(
        analyzer="char", ngram_range=(1, 2), n_features=7, norm=None
    ),  # fmt: skip
}


@pytest.fixture(scope="module", params=list(VECTORIZERS))
def vectorizer(request: pytest.FixtureRequest, corpus: tuple[list[str], list[str]]) -> Any:
    train, _ = corpus
    fitted = VECTORIZERS[request.param]().fit(train)

    def transform(texts: list[str]) -> Any:
        return fitted.transform(texts)

    return transform, wm.compile(transform, (train[:5],))


def test_vectorizer_on_tweets(vectorizer: Any, corpus: tuple[list[str], list[str]]) -> None:
    transform, compiled = vectorizer
    check(compiled, transform, corpus[1])


def test_vectorizer_on_adversarial_text(vectorizer: Any) -> None:
    transform, compiled = vectorizer
    check(compiled, transform, ADVERSARIAL)


@HYPOTHESIS
@given(texts=TEXTS)
def test_vectorizer_on_generated_text(vectorizer: Any, texts: list[str]) -> None:
    transform, compiled = vectorizer
    assert_same(compiled(texts), transform(texts))


# endregion
# region Models over text


@pytest.fixture(scope="module")
def tweet_model() -> Any:
    data = trump_tweets.build(limit=3000)
    model = data.model

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)[:, 1]

    return data, score, wm.compile(score, (data.test[:5],))


def test_tweet_model_is_exact(tweet_model: Any) -> None:
    data, score, compiled = tweet_model
    check(compiled, score, data.test)
    check(compiled, score, ADVERSARIAL)


@HYPOTHESIS
@given(texts=TEXTS)
def test_tweet_model_on_generated_text(tweet_model: Any, texts: list[str]) -> None:
    _, score, compiled = tweet_model
    np.testing.assert_allclose(compiled(texts), score(texts), rtol=0, atol=ATOL)


def test_tweet_model_fuses_the_linear_model(tweet_model: Any) -> None:
    _, _, compiled = tweet_model
    feature_ir = compiled.ir("feature")
    assert "feature.sparse_linear" in feature_ir
    assert feature_ir.count("feature.decode_text") == 1, "both vectorizers share one decoding"
    assert "nothing: the whole pipeline is native code" in compiled.explain()


def test_bbc_news_multiclass_is_exact() -> None:
    data = bbc_news.build(limit=600)
    model = data.model

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)

    compiled = wm.compile(score, (data.test[:3],))
    assert "nothing: the whole pipeline is native code" in compiled.explain()
    check(compiled, score, data.test)


def test_union_with_count_features_and_model() -> None:
    train = tweets()[:800] + ADVERSARIAL
    labels = np.arange(len(train)) % 3
    union = FeatureUnion([("c", CountVectorizer(analyzer="char", ngram_range=(3, 3))),
                          ("h", HashingVectorizer(n_features=64))])  # fmt: skip
    model = make_pipeline(union, LogisticRegression(max_iter=200)).fit(train, labels)

    def predict(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)

    compiled = wm.compile(predict, (train[:3],))
    check(compiled, predict, tweets()[800:1300] + ADVERSARIAL)


def test_words_of_five_to_eight_ascii_characters() -> None:
    """Words and character n-grams of 4 to 9 code points (ASCII, DEL, é, emoji), stop words
    of those lengths, and out-of-vocabulary words that differ from a term only in one
    position or in length."""
    train = [
        "hello world abcde abcdefgh abcdefghi",
        "hello WORLD zzzzz ~~~~~ ~~~~~~~~ a_b_c 12345 1234567",
        "abcd\x7f word\x7fs café cafés naïveté 😀😀😀😀😀",
        "hello abcde abcdefgh abcdefghi café cafés 12345",
        "~~~~~ a_b_c 1234567 world abcd\x7f word\x7fs naïveté",
    ]
    held_out = [
        "hello worl worlds abcdf abcdefg abcdefgi abcdefghij hellohello",
        "~~~~~~ ~~~~ abcd\x7f abcd\x7e word\x7fs café cafe 1234567 12345678",
        "", "hello", "HELLO WORLD ABCDEFGH", "abcdefgh" * 3,
    ]  # fmt: skip
    for vectorizer in (
        CountVectorizer(ngram_range=(1, 2)),
        TfidfVectorizer(stop_words=["hello", "abcdefgh", "abcdefghi", "cafés"]),
        CountVectorizer(analyzer="char", ngram_range=(4, 9)),
        CountVectorizer(analyzer="char_wb", ngram_range=(5, 8), lowercase=False),
    ):
        fitted = vectorizer.fit(train)

        def transform(texts: list[str], fitted: Any = fitted) -> Any:
            return fitted.transform(texts)

        compiled = wm.compile(transform, example=(train,))
        assert "python_call" not in compiled.ir("feature"), vectorizer
        check(compiled, transform, train + held_out)


def test_char_wb_word_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """char_wb counts go through a per-thread cache of each word's terms that lives across
    rows and calls: repeated words, words of 64 and 65 code points (the longest cached, one
    past it), thousands of distinct words (slots shared by several words, a full cache
    leaving words out, then emptied), words differing in one code point or their length,
    Unicode, a word whose n-grams repeat, and blocks on several threads. The arena is
    shrunk to 2^16 entries and the patience to 2^10 words (the code is the same) so that a
    few thousand words fill and empty it."""
    monkeypatch.setattr(text_kernels, "WORD_CACHE_ROOM", 1 << 16)
    monkeypatch.setattr(text_kernels, "WORD_CACHE_PATIENCE", 1 << 10)
    rng = np.random.default_rng(7)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéü字😀"))
    # words of up to 29 letters fill 2^16 entries within the first ~2.5k words seen; the
    # words left out after that empty it several times, in each vectorizer
    many = ["".join(rng.choice(letters, size=rng.integers(1, 30))) for _ in range(10_000)]
    edge = ["q" * 64, "q" * 65, "q" * 63 + "r", "ab" * 32, "ab" * 33, "aaaa", "aaa", "aa"]
    train = [" ".join(many[k : k + 40]) for k in range(0, 6000, 40)] + [" ".join(edge)]
    rows = [" ".join(rng.choice(many, size=rng.integers(0, 50))) for _ in range(1500)]
    rows += [" ".join(edge), " ".join(reversed(edge)), "", "   ", "aaaa aaaa aaaa", "Q" * 65]
    for vectorizer in (
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2),
        CountVectorizer(analyzer="char_wb", ngram_range=(5, 7), binary=True),
    ):
        fitted = vectorizer.fit(train)

        def transform(texts: list[str], fitted: Any = fitted) -> Any:
            return fitted.transform(texts)

        compiled = wm.compile(transform, example=(train[:5],))
        original = answered_once(transform)
        for _ in range(2):  # the second call finds the words the first one cached
            check(compiled, original, rows)
            check(compiled, original, train)


def test_python_vectorizer_feeds_native_model() -> None:
    """A vectorizer with a custom tokenizer runs in Python; its CSR matrix, the native char_wb
    terms and the linear model still run natively."""
    train = tweets()[:1500]
    labels = np.arange(len(train)) % 2
    union = FeatureUnion(
        [
            ("python", CountVectorizer(tokenizer=str.split, token_pattern=None)),
            ("native", TfidfVectorizer(analyzer="char_wb")),
        ]
    )
    model = make_pipeline(union, LogisticRegression(max_iter=200)).fit(train, labels)

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)[:, 1]

    compiled = wm.compile(score, (train[:3],))
    explanation = compiled.explain()
    assert "custom tokenizer" in explanation
    assert "fuse-features: term weights" in explanation
    check(compiled, score, tweets()[1500:2500] + ADVERSARIAL)


# endregion
# region Rows that run in Python


def test_capital_sigma_rows_run_in_python_one_by_one(corpus: tuple[list[str], list[str]]) -> None:
    fitted = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit(corpus[0])

    def transform(texts: list[str]) -> Any:
        return fitted.transform(texts)

    compiled = wm.compile(transform, (corpus[0][:3],))
    texts = ["plain", "ΟΔΥΣΣΕΥΣ", "σΣ Σσ", "plain again", "ΣΑΣ"]
    assert_same_csr(compiled(texts), transform(texts))
    assert compiled.rows_in_python == 3
    explained = compiled.explain()
    assert "(so far: 3 row(s), 0 call(s))" in explained
    assert f"  - that row, when {ROW_HANDOFFS['text-context']}: 3 row(s)" in explained


def test_lone_surrogates_run_in_python(corpus: tuple[list[str], list[str]]) -> None:
    fitted = CountVectorizer(analyzer="char").fit(corpus[0] + ["a\ud800b"])

    def transform(texts: list[str]) -> Any:
        return fitted.transform(texts)

    compiled = wm.compile(transform, (corpus[0][:3],))
    texts = ["ab", "a\ud800b", "\udfff"]
    assert_same_csr(compiled(texts), transform(texts))
    assert compiled.rows_in_python == 2


# endregion
# region Bad input


@pytest.fixture(scope="module")
def word_counts(corpus: tuple[list[str], list[str]]) -> Any:
    fitted = CountVectorizer().fit(corpus[0])

    def transform(texts: Any) -> Any:
        return fitted.transform(texts)

    return wm.compile(transform, (corpus[0][:3],))


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["ok", None, "ok"], "row 1"),
        (["ok", float("nan")], "row 1"),
        (["ok", 3], "row 1"),
        ("a bare string", "string"),
        (np.array([["a", "b"], ["c", "d"]]), "1-D"),
    ],
)
def test_bad_documents_are_clear_errors(word_counts: Any, texts: Any, message: str) -> None:
    with pytest.raises(wm.InputError, match="texts") as error:
        word_counts(texts)
    assert message in str(error.value)


@pytest.mark.parametrize("texts", [["ok", b"bytes"], {"ok": 1, "a key": 2}.keys()])
def test_documents_the_original_reads_run_there(word_counts: Any, texts: Any) -> None:
    """Bytes (which scikit-learn decodes) and other iterables run the original function."""
    expected = word_counts.fn(texts)
    assert (word_counts(texts) != expected).nnz == 0


# endregion


def test_large_batches_split_over_threads(tweet_model: Any) -> None:
    """A batch of thousands of rows runs in blocks on several threads: the result, the rows
    handed to Python and the row an error names are those of one thread."""
    data, score, compiled = tweet_model
    texts = (data.test * 10)[:5000]
    texts[4321] = "ΣΑΣ in a late block"
    before = compiled.rows_in_python
    np.testing.assert_allclose(compiled(texts), score(texts), rtol=0, atol=ATOL)
    assert compiled.rows_in_python == before + 1
    texts[4500] = None
    with pytest.raises(wm.InputError, match="row 4500"):
        compiled(texts)


# region Review fixes: malformed input never reaches native code unchecked


def test_malformed_sparse_matrix_from_python_is_an_error() -> None:
    train = tweets()[:400]
    vectorizer = CountVectorizer().fit(train)
    width = len(vectorizer.vocabulary_)
    model = LogisticRegression(max_iter=200).fit(
        vectorizer.transform(train), np.arange(len(train)) % 2
    )
    def features(texts: list[str]) -> Any:
        matrix = vectorizer.transform(texts)
        if len(texts) == 7:  # a column index past the width, which scipy does not check
            indptr = np.full(len(texts) + 1, 2)
            indptr[0] = 0
            matrix = sp.csr_matrix((np.ones(2), np.array([0, width + 5]), indptr),
                                   shape=(len(texts), width))  # fmt: skip
        return matrix

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(features(texts))[:, 1]

    compiled = wm.compile(score, (train[:3],))
    np.testing.assert_allclose(compiled(train[:50]), score(train[:50]), rtol=0, atol=ATOL)
    with pytest.raises(wm.InputError, match="not a valid CSR matrix"):
        compiled(train[:7])


def test_code_points_past_unicode_run_in_python(word_counts: Any) -> None:
    """numpy can hold a "code point" past U+10FFFF; native code hands such rows to Python,
    so the compiled pipeline does what the original does (here scikit-learn fails)."""
    raw = np.array([0x41, 0x110000, 0x62, 0x63], dtype="<u4").tobytes()
    texts = np.frombuffer(raw, dtype="<U2")

    def outcome(fn: Callable[[Any], Any]) -> Any:
        try:
            return fn(texts)
        except Exception as error:  # noqa: BLE001 - the original's behaviour is the reference
            return type(error)

    want, got = outcome(word_counts.fn), outcome(word_counts)
    if isinstance(want, type):
        assert got is want
    else:
        assert_same_csr(got, want)


def test_nan_weights_stop_the_batch_as_in_sklearn(corpus: tuple[list[str], list[str]]) -> None:
    pipeline = make_pipeline(
        HashingVectorizer(n_features=8, norm=None), TfidfTransformer(sublinear_tf=True)
    ).fit(corpus[0])

    def transform(texts: list[str]) -> Any:
        return pipeline.transform(texts)

    def works(text: str) -> bool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                transform([text])
            except ValueError:
                return False
        return True

    fine = [t for t in ("aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh") if works(t)]
    compiled = wm.compile(transform, ([fine[0]],))
    with pytest.raises(ValueError, match="NaN"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transform(["xx yy zz"])
    with pytest.raises(wm.InputError, match="row 1: Input X contains NaN"):
        compiled([fine[0], "xx yy zz"])


def test_unnormalised_weights_are_checked_by_the_model(corpus: tuple[list[str], list[str]]) -> None:
    """Without a norm, the weights reach the linear model unchecked: it still stops the batch
    on a -inf or NaN weight (log of a cancelled or negative hashed count) as scikit-learn's
    input validation does; counts and normalised weights need no check and agree."""
    train, held_out = corpus
    labels = np.arange(len(train)) % 2
    features = make_pipeline(
        HashingVectorizer(n_features=8, norm=None), TfidfTransformer(sublinear_tf=True, norm=None)
    ).fit(train)
    words = sorted({w for t in train[:300] for w in t.lower().split() if w.isalpha()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a word of negative sign has a NaN weight
        weights = features.transform(words)  # one row a word
    rows = zip(weights.indptr[:-1], weights.indptr[1:], strict=True)
    positive = [w for w, (a, b) in zip(words, rows, strict=True)
                if np.isfinite(weights.data[a:b]).all()]  # fmt: skip
    bad = sorted(set(words) - set(positive))
    assert len(positive) > 100 and bad
    good = [" ".join(positive[k : k + 4]) for k in range(0, len(positive), 4)]
    unchecked = make_pipeline(*features, LogisticRegression()).fit(good, np.arange(len(good)) % 2)

    def predict(texts: list[str]) -> Any:
        return unchecked.predict_proba(texts)

    compiled = wm.compile(predict, (good[:20],))
    assert "python_call" not in compiled.ir("feature")
    check(compiled, predict, good)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Input X contains"):
            predict([good[0], bad[0]])
        with pytest.raises(wm.InputError, match="row 1: Input X contains"):
            compiled([good[0], bad[0]])
    for model in (
        make_pipeline(CountVectorizer(), LogisticRegression()),
        make_pipeline(TfidfVectorizer(norm=None), LogisticRegression()),
        make_pipeline(TfidfVectorizer(use_idf=False, norm=None), LogisticRegression()),
    ):
        model.fit(train, labels)

        def score(texts: list[str], model: Any = model) -> Any:
            return model.predict_proba(texts)

        fused = wm.compile(score, (train[:50],))
        assert "python_call" not in fused.ir("feature")
        check(fused, score, held_out[:300])


def test_bad_document_errors_name_the_argument(tweet_model: Any) -> None:
    _, _, compiled = tweet_model
    with pytest.raises(wm.InputError, match="argument 'texts'.*row 2"):
        compiled(["a", "b", None])


# endregion


def test_float32_sublinear_tf_uses_numpys_own_log(corpus: tuple[list[str], list[str]]) -> None:
    """numpy's float32 log is not correctly rounded: counts take it from a table of numpy's
    results, and a count past the table runs its row in Python."""
    fitted = TfidfVectorizer(dtype=np.float32, sublinear_tf=True).fit(corpus[0] + ["ab cd"])

    def transform(texts: list[str]) -> Any:
        return fitted.transform(texts)

    compiled = wm.compile(transform, (corpus[0][:3],))
    texts = ["ab ab ab ab ab ab ab cd", " ".join(["ab"] * 5000), "cd"]
    assert_same_csr(compiled(texts), transform(texts))
    assert compiled.rows_in_python == 1


def test_tfidf_transformer_over_a_union_of_counts(corpus: tuple[list[str], list[str]]) -> None:
    """TfidfTransformer after a FeatureUnion: idf and the row norm span both parts."""
    union = FeatureUnion(
        [("word", CountVectorizer()), ("char", CountVectorizer(analyzer="char_wb"))]
    )
    fitted = make_pipeline(union, TfidfTransformer(sublinear_tf=True)).fit(corpus[0])

    def transform(texts: list[str]) -> Any:
        return fitted.transform(texts)

    compiled = wm.compile(transform, (corpus[0][:3],))
    assert "nothing: the whole pipeline is native code" in compiled.explain()
    check(compiled, transform, corpus[1][:300] + ADVERSARIAL)


def test_frame_text_column_with_lone_surrogate_runs_that_row_in_python(
    corpus: tuple[list[str], list[str]],
) -> None:
    import pandas as pd

    fitted = TfidfVectorizer(analyzer="char_wb").fit(corpus[0])

    def transform(frame: Any) -> Any:
        return fitted.transform(frame["text"])

    example = pd.DataFrame({"text": corpus[0][:3], "n": [1.0, 2.0, 3.0]})
    compiled = wm.compile(transform, (example,))
    frame = pd.DataFrame({"text": ["plain", "a\ud800b", "more"], "n": [1.0, 2.0, 3.0]},
                         dtype=object)  # fmt: skip
    frame["n"] = frame["n"].astype(float)
    assert_same_csr(compiled(frame), transform(frame))
    assert compiled.rows_in_python == 1
    with pytest.raises(wm.InputError, match="row 1"):
        compiled(pd.DataFrame({"text": ["ok", None], "n": [1.0, 2.0]}))
