"""Word n-grams counted through the vocabulary's trie over tokens (``text_tables.word_index``)
against the original.

The kernel looks each token up once by its code points and extends an n-gram's id through
(id, token) edges, so these vocabularies hold what a trie could get wrong: n-grams whose
tokens are not terms (pruned by ``max_df``, or a given vocabulary), terms that are prefixes
of other terms, terms of more or fewer tokens than the n-gram range counts, terms no token
sequence can be (double, leading and trailing spaces, punctuation, one letter), long and
non-ASCII tokens, stop words between tokens, and repeated n-grams. Counts must be
scikit-learn's CSR matrix bit for bit; TF-IDF into a linear model (tallied) its probabilities
within rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import willump_mlir as wm
from willump_mlir.frontend import text_tables

ATOL = 1e-12
LONG = "pneumonoultramicroscopic"
DOCS = [
    "", " ", "a", "ab", "ab ab ab ab", "ab cd ef gh", "ab  cd", "ab, cd! ef? ab cd ef",
    "the cat sat on the mat the cat", "Cat CAT cat", f"{LONG} {LONG} {LONG}x {LONG}",
    "café naïve café naïve", "字漢 字漢 한글", "😀😀 ab 😀😀 cd", "a b c d", "x" * 300,
    "ab " * 200, "one two three four five six", "new york new york city", "to be or not to be",
]  # fmt: skip
GIVEN = [
    "ab", "ab cd", "ab cd ef", "cd ef", "ab ab", "ab ab ab", "cat", "the cat", "cat sat on",
    "ab  cd", " ab", "ab ", "a", "a b", "ab, cd", "café naïve", "字漢 한글", "😀😀 ab", LONG,
    f"{LONG} {LONG}", f"{LONG}x {LONG}", "new york", "new york city", "york city", "to be",
    "be or not", "not to", "one two three four", "two", "x" * 300, "",
]  # fmt: skip


def assert_same_csr(got: Any, want: Any) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


@pytest.mark.parametrize(
    "vectorizer",
    [
        CountVectorizer(vocabulary=GIVEN, ngram_range=(1, 2)),
        CountVectorizer(vocabulary=GIVEN, ngram_range=(1, 3)),
        CountVectorizer(vocabulary=GIVEN, ngram_range=(2, 3)),
        CountVectorizer(vocabulary=GIVEN, ngram_range=(3, 4)),
        CountVectorizer(vocabulary=GIVEN, ngram_range=(1, 1)),
        CountVectorizer(vocabulary=GIVEN, ngram_range=(1, 3), stop_words=["on", "the", "or"]),
        CountVectorizer(ngram_range=(1, 3), max_df=0.2),
        CountVectorizer(ngram_range=(2, 2), lowercase=False),
    ],
    ids=lambda v: str(v.get_params()["ngram_range"]),
)
def test_counts_exact(vectorizer: Any) -> None:
    fitted = vectorizer.fit(DOCS + DOCS[::3])

    def transform(texts: list[str]):  # noqa: ANN202
        return fitted.transform(texts)

    compiled = wm.compile(transform, (DOCS[:4],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert_same_csr(compiled(DOCS), transform(DOCS))
    assert_same_csr(compiled(DOCS[::-1]), transform(DOCS[::-1]))
    for k in (0, 5, len(DOCS) - 1):  # one row at a time
        assert_same_csr(compiled(DOCS[k : k + 1]), transform(DOCS[k : k + 1]))


def test_tallied_model_on_pruned_vocabulary() -> None:
    """Bigrams kept while their tokens are pruned (``max_df``) reach the model."""
    labels = np.arange(len(DOCS)) % 2
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 3), max_df=0.15),
                          LogisticRegression()).fit(DOCS, labels)  # fmt: skip
    vocabulary = model[0].vocabulary_
    assert "new york" in vocabulary and "york city" in vocabulary

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(texts)[:, 1]

    compiled = wm.compile(score, (DOCS[:4],))
    assert ".stamp" in compiled.ir("scf")  # tallied
    np.testing.assert_allclose(compiled(DOCS), score(DOCS), rtol=0, atol=ATOL)
    np.testing.assert_allclose(compiled(DOCS[7:8]), score(DOCS[7:8]), rtol=0, atol=ATOL)


def test_trie_names_every_term_by_its_tokens() -> None:
    """Walking each term's tokens through the trie gives the term; the ids of sequences that
    are no terms start at the vocabulary's size."""
    table = text_tables.term_table(GIVEN)
    for low, high in ((1, 2), (1, 3), (2, 3), (1, 1)):
        index = text_tables.word_index(table.codepoints, table.offsets, low, high)
        tokens = [
            "".join(map(chr, index.tokens.codepoints[a:b]))
            for a, b in zip(index.tokens.offsets[:-1], index.tokens.offsets[1:], strict=True)
        ]
        assert index.edge_bits  # a small vocabulary: compact edges
        edges = {int(v) >> 32: int(v) & 0xFFFFFFFF for v in index.edges if v >= 0}
        for term, number in ((t, k) for k, t in enumerate(GIVEN)):
            parts = term.split(" ")
            if not low <= len(parts) <= high or not all(parts):
                continue
            sequence = int(index.token_ids[tokens.index(parts[0])])
            for part in parts[1:]:
                key = text_tables.compact_edge_key(sequence, tokens.index(part), index.edge_bits)
                sequence = edges[key]
            assert sequence == number, term
        assert all(
            v >= len(GIVEN) or " ".join(GIVEN[v].split(" ")[:1]) == GIVEN[v]
            for v in index.token_ids.tolist()
        )


@pytest.mark.parametrize("sequences", [1000, 1 << 22])
def test_edge_table_layouts(sequences: int) -> None:
    """Edges are compact (one int64 a slot) while every compact key is below 2**31, else a
    ``key_table`` of ``edge_key``s: each layout finds every edge, at most ``probes`` slots
    from its home, and holds nothing else."""
    rng = np.random.default_rng(0)
    tokens = 600
    drawn = np.column_stack([rng.integers(0, sequences, 3000), rng.integers(0, tokens, 3000)])
    pairs = sorted({(int(s), int(t)) for s, t in drawn})
    children = rng.integers(0, sequences, len(pairs))
    table, probes, bits = text_tables.edge_table(pairs, children, sequences, tokens)
    assert bool(bits) == (sequences <= 1 << 21)
    if bits:
        keys = [text_tables.compact_edge_key(s, t, bits) for s, t in pairs]
        held = {int(v) >> 32: int(v) & 0xFFFFFFFF for v in table if v >= 0}
        assert max(keys) < 1 << 31
    else:
        keys = [text_tables.edge_key(s, t) for s, t in pairs]
        held = {int(k) % (1 << 64): int(v) for k, v in table.reshape(-1, 2) if v >= 0}
    assert held == dict(zip(keys, children.tolist(), strict=True))
    size = len(table) if bits else len(table) // 2
    for key in keys:
        home = text_tables.home_slot(key, size)
        window = [(home + step) % size for step in range(probes)]
        stored = [int(table[w]) >> 32 if bits else int(table[2 * w]) % (1 << 64) for w in window]
        assert key in stored
