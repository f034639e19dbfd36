"""A word analyzer and a char_wb analyzer on the same text share one loop over its words.

A word token never crosses white space, so the char_wb word loop lists the word analyzer's
tokens as it passes each white-space word (``text_kernels.WordTokens``): a word found in the
char_wb word cache copies the tokens stored with it (no scan, key or probe), any other has
its tokens looked up and, when the word is kept, stored after its hits. These rows hold what
that could get wrong: words with several tokens or none (punctuation, one-letter tokens,
apostrophes, underscores), tokens past seven code points and in other scripts, words past
the cached 64 code points, a word repeated many times, Unicode white space, empty and
white-space-only rows, a cache emptied again and again; the word op before or after the
char_wb op, two word ops, a word op on other text (``lowercase=False``). Counts must be
scikit-learn's CSR matrix bit for bit; probabilities within rounding (``ATOL``), the same
bits on every call, in any order and one row at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

import willump_mlir as wm
from willump_mlir.passes import text_kernels

ATOL = 1e-12
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LONG = "supercalifragilisticexpialidocious_" * 2  # one token past the cached 64 code points
ROWS = [
    "", " ", "\u3000\t\n", "a", "ab", "a b c", "don't it's o'clock", "a.b,c!d e-f", "x.y",
    "__init__ _ __ a_b", "Trump's trump's TRUMP'S", "RT @realDonaldTrump: #MAGA https://t.co/x1",
    "café naïve über CAFÉ", "字漢 한글 漢字漢字漢字 ab字", "abcdefgh abcdefghi abcdefg",
    f"{LONG} {LONG}.{LONG}", f"{LONG[:63]}. {LONG[:64]}", "the the the then them there",
    "great " * 300, "!!! ... ,,,", "New York new york NEW-YORK", "ab\u00a0cd\u2003ef gh",
    "tweet:tweet;tweet", "1,000 2.5% $3 #1",
]  # fmt: skip


def char_wb(**options: Any) -> CountVectorizer:
    return CountVectorizer(analyzer="char_wb", **options)


def corpus(count: int, seed: int) -> list[str]:
    """Rows of words from a small vocabulary (so words repeat within and across rows) with
    punctuation inside and around them, plus ``ROWS``."""
    rng = np.random.default_rng(seed)
    stems = ["trump", "great", "america", "news", "fake", "don't", "u.s.a", "a", "i", "ok", "x_y",
             "crooked-hillary", "@cnn", "#maga", "co/abc", "ünïcödé", "字漢", "vote!"]  # fmt: skip
    words = [s + rng.choice(["", "s", "'s", ".", ":", "!!", "ing"]) for s in stems * 3]
    rows = [" ".join(rng.choice(words, size=rng.integers(0, 25))) for _ in range(count)]
    return rows + ROWS


def assert_same_csr(got: Any, want: Any) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


@pytest.fixture
def partners(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The char_wb ops the word ops of the compiles that follow share their loops with."""
    found: list[Any] = []
    original = text_kernels.TextEmitter.char_wb_partner

    def spy(self: Any, op: Any) -> Any:
        partner = original(self, op)
        found.append(partner)
        return partner

    monkeypatch.setattr(text_kernels.TextEmitter, "char_wb_partner", spy)
    return found


@pytest.mark.parametrize(
    ("vectorizers", "shared"),
    [
        ((CountVectorizer(ngram_range=(1, 3)), char_wb(ngram_range=(2, 4))), [True]),
        ((char_wb(ngram_range=(1, 3)), CountVectorizer(ngram_range=(1, 2))), [False]),
        ((CountVectorizer(stop_words=["the", "a", "trump"]), char_wb(),
          CountVectorizer(ngram_range=(2, 2), binary=True)), [True, False]),
        ((CountVectorizer(lowercase=False), char_wb(ngram_range=(3, 5))), [False]),
        ((CountVectorizer(lowercase=False, ngram_range=(1, 2)), char_wb(lowercase=False)), [True]),
    ],
    ids=["word_then_char_wb", "char_wb_then_word", "two_word_ops", "word_on_other_text",
         "both_cased"],
)  # fmt: skip
def test_union_counts_exact(
    vectorizers: tuple[Any, ...], shared: list[bool], partners: list[Any]
) -> None:
    """Bit for bit; a word op before a char_wb op on its text shares its loop (the first
    of two word ops: the second scans its own tokens)."""
    rows = corpus(300, 0)
    union = make_union(*vectorizers).fit(rows[::2])  # tokens of the other rows are not terms

    def transform(texts: list[str]) -> Any:
        return union.transform(texts)

    compiled = wm.compile(transform, (rows[:4],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert [p is not None for p in partners] == shared
    for batch in (rows, rows[::-1], rows, ROWS, [ROWS[6]], [""], [LONG]):
        assert_same_csr(compiled(batch), transform(batch))


def test_tfidf_union_into_model_through_a_small_word_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, partners: list[Any]
) -> None:
    """Word 1-2-gram ∪ char_wb 2-4-gram TF-IDF → LogisticRegression (tallied) through a
    char_wb word cache of 2^12 entries, full and emptied again and again (the tokens take
    room too): within rounding of scikit-learn, the same bits on every call."""
    monkeypatch.setattr(text_kernels, "WORD_CACHE_ROOM", 1 << 12)
    monkeypatch.setattr(text_kernels, "WORD_CACHE_PATIENCE", 1 << 5)
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))
    rows = corpus(600, 1)
    union = make_union(
        TfidfVectorizer(ngram_range=(1, 2)),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)),
    )
    model = make_pipeline(union, LogisticRegression(max_iter=500))
    model.fit(rows, np.arange(len(rows)) % 3)

    def decide(texts: list[str]) -> np.ndarray:
        return model.decision_function(texts)

    compiled = wm.compile(decide, (rows[:20],))
    assert len(partners) == 1 and partners[0] is not None
    test = corpus(400, 2)
    cold = compiled(test)
    np.testing.assert_allclose(cold, decide(test), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(compiled(test), cold)
    np.testing.assert_array_equal(compiled(test[::-1])[::-1], cold)
    for k in (0, 200, len(test) - 1):
        np.testing.assert_array_equal(compiled(test[k : k + 1]), cold[k : k + 1])
