"""The row scans and the word analyzer's token keys against the original.

The scans skip the code points between runs from the one after a run's end and stop on the
end mark after a row's last code point; a word token of one to seven code points below 256,
or of eight whose first is ASCII, is looked up by its bytes (packed as it is scanned), any
other by its FNV-1a and a comparison of code points; exact keys probe without comparing; a
token's slot holds its id and whether it can start or extend an n-gram. These rows hold
what that could get wrong: tokens of six to nine code points (of eight: ASCII, a first or a
later one of Latin-1, one past it), Latin-1 and other code points in short and long tokens,
word characters of other scripts (digits, CJK, combining marks, astral letters),
underscores and apostrophes, white space of every kind and length at both ends, empty,
white-space-only and punctuation-only rows, one very long token, a token repeated many
times, and batches of one row and of more than 2,048 rows (split among threads). Counts
must be scikit-learn's CSR matrix bit for bit; TF-IDF into a linear model its
probabilities within rounding, with the same labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

import willump_mlir as wm

ATOL = 1e-12
#: tokens of eight code points: ASCII (their bytes are their key), a first one of Latin-1
#: or a later one past it (hashed), a later one of Latin-1 (bytes), digits and underscores
EIGHT = "abcdefgh éabcdefg abcdefgé abcdefgĀ 12345678 _abcdefg ABCDEFGH abcdefghi"
ROWS = [
    "", " ", "\t\n ", "a", "ab", "  ab  ", "ab\n", "\u3000ab\u3000cd\u3000", "!!! ??? ...",
    "-- ,, ;; ''", "abcdef abcdefg abcdefgh abcdefghi", "abcdefg abcdefg abcdefgh",
    "café naïve über ÿÿÿÿÿÿÿ ÿÿÿÿÿÿÿÿ éééé", "ĀĀ ĀĀĀĀĀĀĀ ab字 字漢 한글 漢字漢字漢字漢字",
    "١٢٣ ٤٥ ߀߁ ٣٣", "__init__ a_b _ __ don't it's o'clock", "e\u0301te cafe\u0301 n\u0303",
    "𝐀𝐁𝐂 abc 𝐀𝐁𝐂𝐃𝐄𝐅𝐆𝐇 😀😀 ab😀cd", "a\u3000b\u00a0c\x1cd\te\nf  g\r\nh\x0bi\x0cj",
    "   leading and trailing   ", "new york new york city", "the cat sat on the mat",
    "x" * 5000, "ab " * 3000, "ab\tab\n" * 50, "Don't STOP me NOW now Now",
    EIGHT[::-1], " ".join(EIGHT.split()[::-1]),
]  # fmt: skip
MORE = ["the new cat", "abcdefg abc", "ÿÿÿÿÿÿÿ café", "字漢 ab", "don't stop", "a b c", EIGHT]


def assert_same_csr(got: Any, want: Any) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def batches() -> list[list[str]]:
    rng = np.random.default_rng(0)
    big = [ROWS[k] for k in rng.integers(0, len(ROWS), 2500)]
    return [ROWS, ROWS[::-1], MORE, [ROWS[10]], [""], [ROWS[17]], big]


@pytest.mark.parametrize(
    "vectorizer",
    [
        CountVectorizer(ngram_range=(1, 2)),
        CountVectorizer(ngram_range=(1, 3), stop_words=["the", "on", "ab", "abcdefgh"]),
        CountVectorizer(ngram_range=(2, 2), lowercase=False),
        CountVectorizer(ngram_range=(1, 1), token_pattern=r"(?u)\b\w\w+\b"),
        CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)),
        CountVectorizer(analyzer="char_wb", ngram_range=(1, 5), lowercase=False),
    ],
    ids=["word12", "word13_stop", "word22_cased", "word11", "char_wb24", "char_wb15_cased"],
)
def test_counts_exact(vectorizer: Any) -> None:
    fitted = vectorizer.fit(ROWS[::2] + MORE)  # tokens of the other rows are not terms

    def transform(texts: list[str]):  # noqa: ANN202
        return fitted.transform(texts)

    compiled = wm.compile(transform, (ROWS[:4],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in batches():
        assert_same_csr(compiled(batch), transform(batch))


def test_tallied_union_probabilities() -> None:
    """The model of ``bench.ray_data`` (word 1-2-grams and char_wb 2-4-grams into a logistic
    regression), tallied: probabilities within rounding, the same labels."""
    labels = np.arange(len(ROWS) + len(MORE)) % 2
    model = make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2)),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))),
        LogisticRegression(C=10.0),
    ).fit(ROWS + MORE, labels)  # fmt: skip

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)[:, 1]

    compiled = wm.compile(score, (ROWS[:4],))
    assert ".stamp" in compiled.ir("scf")  # tallied
    for batch in batches():
        got, want = compiled(batch), score(batch)
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
        np.testing.assert_array_equal(got > 0.5, want > 0.5)
