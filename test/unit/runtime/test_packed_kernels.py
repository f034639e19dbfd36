"""Kernels called through their argument slots (``pack-kernel-arguments``): many-argument
kernels, zero, one and many rows, threads on the short path, and pickles of either ABI."""

from __future__ import annotations

import collections
import pickle
import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm
from willump_mlir import persist
from willump_mlir.runtime import jit
from willump_mlir.runtime.compiled import PARALLEL_ROWS

WORDS = ["tax", "wall", "great", "fake", "news", "ünïcode", "☃", "straße", "😀", "字漢",
         "RT", "@user", "https://t.co/x", "", "again"]  # fmt: skip


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


def documents(rng: np.random.Generator, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=rng.integers(0, 12))) for _ in range(count)]


@pytest.fixture(scope="module")
def texts() -> tuple[wm.CompiledPipeline, object, list[str]]:
    """word ∪ char_wb TF-IDF -> LogisticRegression, compiled on a list of documents: one
    kernel of many scratch buffers."""
    rng = np.random.default_rng(9)
    train = documents(rng, 300)
    model = make_pipeline(
        FeatureUnion([("word", TfidfVectorizer(ngram_range=(1, 2))),
                      ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)))]),
        LogisticRegression(max_iter=500),
    ).fit(train, rng.integers(0, 2, size=300))  # fmt: skip

    def score(text: list[str], model: object) -> np.ndarray:
        return model.predict_proba(text)[:, 1]

    return wm.compile(score, (train[:40], model)), model, documents(rng, 200)


def test_a_kernel_of_many_arguments(tmp_path) -> None:
    """Forty columns of a frame, each a slot of the kernel: zero, one, some and many rows
    (split over threads, each block in slots of its own) give the original's result."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(3000, 40)), columns=[f"c{i}" for i in range(40)])
    frame.iloc[7, 3] = -0.0
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, frame["c0"] > 0)

    def score(frame: pd.DataFrame, model: object) -> np.ndarray:
        return model.predict_proba(frame)[:, 1]

    compiled = wm.compile(score, (frame.iloc[:50], model))
    assert max(len(k.inputs) for k in compiled.kernels.values()) >= 40
    for rows in (frame.iloc[[0]], frame.iloc[5:9], frame.iloc[:PARALLEL_ROWS + 1]):
        close(compiled(rows, model), model.predict_proba(rows)[:, 1])
    with pytest.raises(ValueError) as original:
        model.predict_proba(frame.iloc[:0])
    with pytest.raises(type(original.value)):
        compiled(frame.iloc[:0], model)


def test_documents_zero_one_and_many(texts) -> None:
    fast, model, docs = texts
    for rows in ([docs[0]], [""], ["😀 字漢 ☃"], docs[:7], tuple(docs), [docs[3]] * 2):
        assert fast.direct((rows, model)) is not None
        close(fast(rows, model), model.predict_proba(list(rows))[:, 1])
    with pytest.raises(ValueError):
        fast([], model)
    assert fast.rows_in_python == 0


def test_threads_on_the_short_path(texts) -> None:
    """Each thread fills slots of its own: concurrent one-row and few-row calls give each
    call its own documents' results."""
    fast, model, docs = texts
    expected = model.predict_proba(docs)[:, 1]
    failures: collections.Counter[str] = collections.Counter()

    def work(offset: int) -> None:
        for repeat in range(60):
            i = (offset * 37 + repeat * 11) % len(docs)
            rows = docs[i : i + 1 + repeat % 3]
            if not np.allclose(fast(rows, model), expected[i : i + len(rows)], rtol=0,
                               atol=1e-12):  # fmt: skip
                failures[f"thread {offset}"] += 1

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_a_call_while_the_threads_slots_are_in_use_takes_the_general_path(texts) -> None:
    """A call made while this thread's slots are being filled (by a finalizer) must not
    overwrite them: it takes the general path, slots of its own."""
    fast, model, docs = texts
    fast.scratch.busy = True
    try:
        assert fast.direct(([docs[1]], model)) is None
        close(fast([docs[1]], model), model.predict_proba([docs[1]])[:, 1])
    finally:
        fast.scratch.busy = False
    assert fast.direct(([docs[1]], model)) is not None


def test_pickles_of_this_and_an_older_abi(texts, tmp_path, monkeypatch) -> None:
    """A pickle carries machine code of this ABI, used as it is; one made for another ABI
    version (``jit.RUNTIME_ABI_VERSION``: kernels of separate arguments) is compiled from
    its IR instead of running code that reads its arguments from the wrong place."""
    fast, model, docs = texts
    state = persist.portable(fast)
    *target, abi = state.target.split("\0")
    assert abi == jit.RUNTIME_ABI_VERSION
    older = persist.Portable(state.files, state.entries, "\0".join((*target, "3")), state.keys,
                             state.compiler)  # fmt: skip
    for carried, hit in ((state, True), (older, False)):
        monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path / f"cache-{hit}"))
        monkeypatch.setattr(persist, "_UNPICKLED", collections.OrderedDict())
        monkeypatch.setattr(jit, "_adopted", {})
        restored = persist.unpickle(pickle.loads(pickle.dumps(carried)))
        assert restored.library.cache_hit is hit
        for rows in ([docs[4]], docs[:30]):
            close(restored(rows), model.predict_proba(rows)[:, 1])
            close(restored(rows), fast(rows, model))
