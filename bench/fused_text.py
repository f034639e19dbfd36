"""A hand-fused numba scorer for TF-IDF ∪ TF-IDF -> binary LogisticRegression (a peer system).

What a skilled engineer would write by hand for a text pipeline like ``trump_tweets``: one
``@njit`` function per document that reproduces scikit-learn's analyzers exactly (lowercase;
``word`` = the default ``\\b\\w\\w+\\b`` tokens and their n-grams; ``char_wb`` = n-grams of each
whitespace-split word padded with spaces; ``char`` = n-grams of the text after runs of two or more
whitespace characters became one space), looks the n-grams up in the vocabulary, and folds
``idf * coef`` into one weight per term, so the score of one vectorizer is
``sum(count * idf * coef) / ||count * idf||``.  Adapted from the project's peer benchmark
(``shared/reference/peerbench/bench_text.py``), generalised to any n-gram range, ``char``
analyzers and one or two vectorizers.

Only configurations whose arithmetic this reproduces are accepted; anything else raises
:class:`Unsupported`, which the harness records as a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ANALYZERS = {"word": 0, "char_wb": 1, "char": 2}


class Unsupported(ValueError):
    """The pipeline has a step or option the hand-fused scorer does not reproduce."""


@dataclass(frozen=True)
class Part:
    """One fitted TfidfVectorizer, flattened: analyzer code, n-gram range, vocab, idf, idf*coef."""

    analyzer: int
    min_n: int
    max_n: int
    vocabulary: dict[str, int]
    idf: np.ndarray
    weight: np.ndarray


def _check_vectorizer(name: str, vec: Any) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vec) is not TfidfVectorizer:
        raise Unsupported(f"{name}: {type(vec).__name__} is not a TfidfVectorizer")
    wanted = {
        "input": "content",
        "lowercase": True,
        "preprocessor": None,
        "tokenizer": None,
        "stop_words": None,
        "strip_accents": None,
        "binary": False,
        "norm": "l2",
        "use_idf": True,
        "sublinear_tf": False,
    }
    for attr, value in wanted.items():
        if getattr(vec, attr) != value:
            raise Unsupported(f"{name}: {attr}={getattr(vec, attr)!r} (only {value!r})")
    if vec.analyzer not in ANALYZERS:
        raise Unsupported(f"{name}: analyzer={vec.analyzer!r}")
    if vec.analyzer == "word" and vec.token_pattern != DEFAULT_TOKEN_PATTERN:
        raise Unsupported(f"{name}: token_pattern={vec.token_pattern!r}")
    if vec.ngram_range[0] < 1:
        raise Unsupported(f"{name}: ngram_range={vec.ngram_range}")


def extract(model: Any) -> tuple[list[Part], float]:
    """Flatten ``Pipeline([features, LogisticRegression])`` into vectorizer parts + intercept.

    ``features`` is a TfidfVectorizer or a FeatureUnion of one or two of them.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    steps = getattr(model, "steps", None)
    if not steps or len(steps) != 2:
        raise Unsupported("expected a two-step Pipeline (features, LogisticRegression)")
    features, clf = steps[0][1], steps[1][1]
    if type(clf) is not LogisticRegression or len(clf.classes_) != 2:
        raise Unsupported("the final step must be a binary LogisticRegression")
    if isinstance(features, FeatureUnion):
        if features.transformer_weights:
            raise Unsupported("FeatureUnion transformer_weights")
        named = [(n, v) for n, v in features.transformer_list if v not in ("drop", None)]
    else:
        named = [(steps[0][0], features)]
    if not 1 <= len(named) <= 2:
        raise Unsupported(f"{len(named)} vectorizers (the fused kernel takes one or two)")
    coef = np.asarray(clf.coef_, dtype=np.float64).ravel()
    parts, offset = [], 0
    for name, vec in named:
        _check_vectorizer(name, vec)
        size = len(vec.vocabulary_)
        idf = np.asarray(vec.idf_, dtype=np.float64)
        weight = idf * coef[offset : offset + size]
        parts.append(
            Part(ANALYZERS[vec.analyzer], *vec.ngram_range, dict(vec.vocabulary_), idf, weight)
        )
        offset += size
    if offset != coef.size:
        raise Unsupported(f"{offset} TF-IDF columns but {coef.size} coefficients")
    return parts, float(clf.intercept_[0])


def build(model: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """A function ``texts -> P(class 1)`` equal to ``model.predict_proba(texts)[:, 1]``.

    Builds numba typed dicts for the vocabularies and JIT-compiles the kernel (by scoring one
    document), so the time this takes is the system's compile time.
    """
    parts, intercept = extract(model)
    kernel = _kernels()
    from numba import types
    from numba.typed import Dict

    args = []
    for part in parts:
        table = Dict.empty(key_type=types.unicode_type, value_type=types.int64)
        for term, index in part.vocabulary.items():
            table[term] = index
        size = len(part.vocabulary)
        # scratch: counts per term and the list of terms touched by the current document
        args.append(
            (part.analyzer, part.min_n, part.max_n, table, part.idf, part.weight,
             np.zeros(size, dtype=np.float64), np.zeros(max(size, 1), dtype=np.int64))
        )  # fmt: skip
    if len(parts) == 1:
        one_args = args[0]

        def one(doc: str) -> float:
            return kernel.score1(doc, *one_args, intercept)
    else:
        first, second = args

        def one(doc: str) -> float:
            return kernel.score2(doc, *first, *second, intercept)

    one("warm up the JIT")

    def score(texts: Sequence[str]) -> np.ndarray:
        return np.array([one(doc) for doc in texts], dtype=np.float64)

    return score


_KERNELS: Any = None


def _kernels() -> Any:
    """Compile-on-first-use numba kernels (numba is imported only by the numba system)."""
    global _KERNELS
    if _KERNELS is not None:
        return _KERNELS
    import numba

    njit = numba.njit(cache=False, nogil=True)

    @njit
    def add(term, table, counts, touched, n_touched):  # type: ignore[no-untyped-def]
        if term in table:  # the string caches its hash, so this looks it up once
            j = table[term]
            if counts[j] == 0.0:
                touched[n_touched] = j
                n_touched += 1
            counts[j] += 1.0
        return n_touched

    @njit
    def collapse_spaces(s):  # type: ignore[no-untyped-def]
        # re.sub(r"\s\s+", " ", s): a run of two or more whitespace characters becomes one space
        n = len(s)
        out = ""
        start = 0
        i = 0
        while i < n:
            if s[i].isspace():
                j = i + 1
                while j < n and s[j].isspace():
                    j += 1
                if j - i >= 2:
                    out += s[start:i] + " "
                    start = j
                i = j
            else:
                i += 1
        if start == 0:
            return s
        return out + s[start:]

    @njit
    def is_word(ch):  # type: ignore[no-untyped-def]
        return ch.isalnum() or ch == "_"

    @njit
    def contribution(s, analyzer, min_n, max_n, table, idf, weight, counts, touched):  # type: ignore[no-untyped-def]
        nt = 0
        if analyzer == 0:  # word: \b\w\w+\b tokens, then n-grams joined by one space
            tokens = []
            n = len(s)
            start = -1
            for i in range(n + 1):
                if i < n and is_word(s[i]):
                    if start < 0:
                        start = i
                else:
                    if start >= 0 and i - start >= 2:
                        tokens.append(s[start:i])
                    start = -1
            nt_tokens = len(tokens)
            for k in range(min_n, max_n + 1):
                for i in range(nt_tokens - k + 1):
                    gram = tokens[i]
                    for m in range(1, k):
                        gram = gram + " " + tokens[i + m]
                    nt = add(gram, table, counts, touched, nt)
        elif analyzer == 1:  # char_wb: n-grams of " " + word + " "
            for w0 in s.split():
                w = " " + w0 + " "
                w_len = len(w)
                for k in range(min_n, max_n + 1):
                    offset = 0
                    nt = add(w[0:k], table, counts, touched, nt)
                    while offset + k < w_len:
                        offset += 1
                        nt = add(w[offset : offset + k], table, counts, touched, nt)
                    if offset == 0:
                        break
        else:  # char: n-grams of the text with whitespace runs collapsed
            t = collapse_spaces(s)
            t_len = len(t)
            for k in range(min_n, min(max_n + 1, t_len + 1)):
                for i in range(t_len - k + 1):
                    nt = add(t[i : i + k], table, counts, touched, nt)
        norm = 0.0
        dot = 0.0
        for q in range(nt):
            j = touched[q]
            c = counts[j]
            v = c * idf[j]
            norm += v * v
            dot += c * weight[j]
            counts[j] = 0.0
        if norm > 0.0:
            return dot / np.sqrt(norm)
        return 0.0

    @njit
    def score1(doc, a0, lo0, hi0, t0, idf0, w0, c0, u0, intercept):  # type: ignore[no-untyped-def]
        s = doc.lower()
        z = intercept + contribution(s, a0, lo0, hi0, t0, idf0, w0, c0, u0)
        return 1.0 / (1.0 + np.exp(-z))

    @njit
    def score2(doc, a0, lo0, hi0, t0, idf0, w0, c0, u0,
               a1, lo1, hi1, t1, idf1, w1, c1, u1, intercept):  # type: ignore[no-untyped-def]  # fmt: skip
        s = doc.lower()
        z = intercept + contribution(s, a0, lo0, hi0, t0, idf0, w0, c0, u0)
        z = z + contribution(s, a1, lo1, hi1, t1, idf1, w1, c1, u1)
        return 1.0 / (1.0 + np.exp(-z))

    class Kernels:
        pass

    kernels = Kernels()
    kernels.score1 = score1  # type: ignore[attr-defined]
    kernels.score2 = score2  # type: ignore[attr-defined]
    _KERNELS = kernels
    return kernels
