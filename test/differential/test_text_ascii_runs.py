"""The decoder's ASCII runs (eight bytes at a time, then one) against the original.

Text is decoded eight ASCII bytes at a time while the next eight all are ASCII mapping to
one code point, then a byte at a time, then one code point through the full decoder. These
rows put every kind of non-ASCII character (two, three and four UTF-8 bytes; ones that map
to several code points or to none; upper case ASCII, which maps to another code point) at
every offset modulo 8 and across the edges of eight-byte chunks, with empty and one-character
rows, very long tokens and runs of one word; vectorizers must return scikit-learn's matrix
bit for bit and ``str.lower``/``str.upper`` pandas' strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

import willump_mlir as wm

#: one of each: 2-byte, 3-byte, 4-byte UTF-8, a ligature and dotted capital I (several code
#: points once lowered or stripped), a combining mark (none once stripped), the Kelvin sign
#: (lowercases to ASCII k), white space outside ASCII, upper case ASCII
ODD = ["é", "字", "😀", "ﬁ", "İ", "e\u0301", "\u212a", "\u3000", "Q"]


def boundary_rows() -> list[str]:
    rows = ["", "a", "A", "é", " ", "ab", "x" * 4000, "Ab " * 700]
    for odd in ODD:
        for offset in range(17):
            head = "ab cd efghij"[:offset].ljust(offset, "z")
            rows.append(head + odd + "Tail of some words")
            rows.append(head + odd)
            rows.append(odd + head)
            rows.append((head + odd) * 3)
    for offset in range(1, 10):  # a multi-byte character split across chunk edges
        rows.append("w" * offset + "😀字é" * 5 + "W" * offset)
    return rows


VECTORIZERS = {
    "word": lambda: CountVectorizer(ngram_range=(1, 2)),
    "char": lambda: CountVectorizer(analyzer="char", ngram_range=(1, 3)),
    "char_wb_accents": lambda: TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), strip_accents="unicode"
    ),
    "cased": lambda: CountVectorizer(analyzer="char", lowercase=False),
}


@pytest.mark.parametrize("name", list(VECTORIZERS))
def test_vectorizers_exact_at_every_offset(name: str) -> None:
    rows = boundary_rows()
    fitted = VECTORIZERS[name]().fit(rows)

    def transform(texts: list[str]):  # noqa: ANN202
        return fitted.transform(texts)

    compiled = wm.compile(transform, (rows[:5],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    got, want = compiled(rows), transform(rows)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def cased(d: pd.DataFrame) -> pd.Series:
    return d["s"].str.lower() + d["s"].str.upper()


def test_string_case_at_every_offset() -> None:
    frame = pd.DataFrame({"s": boundary_rows()})
    compiled = wm.compile(cased, (frame.iloc[:5],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    pd.testing.assert_series_equal(compiled(frame), cased(frame))
