"""The frontend on text pipelines: text arguments, vectorizer params and blobs, composition."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from xdsl.dialects.builtin import IntegerAttr, StringAttr

from willump_mlir.dialects.pipeline import BlobAttr, HstackOp, PredictOp, TransformOp
from willump_mlir.frontend import FrontendError, FrontendResult, trace_to_module
from willump_mlir.frontend import text_tables as tt

DOCS = [
    "The quick brown fox jumps over the lazy dog",
    "Zürich café: naïve résumé, ÉCOLE",
    "a an the of and to in is it",
    "Hello   world\thello WORLD",
    "東京 タワー 🎉 emoji-heavy text!!",
    "İstanbul straße ǅemal",
    "dog dog dog fox",
    "numbers 123 4567 and under_scores",
] * 6
LABELS = np.array([0, 1, 0, 1, 1, 0, 1, 0] * 6)
SHARED = {"analyzer", "ngram_min", "ngram_max", "lowercase", "strip_accents", "char_index",
          "char_blocks", "char_sequences", "char_classes", "max_expansion", "binary"}  # fmt: skip
TERMS = ("codepoints", "offsets", "table", "probes")


def transform(texts, vec):
    return vec.transform(texts)


def proba(texts, model):
    return model.predict_proba(texts)[:, 1]


def ops(result: FrontendResult) -> list[str]:
    """The op names of the traced function body."""
    return [op.name for op in result.module.body.block.first_op.body.block.ops]  # type: ignore


def the(result: FrontendResult, kind: type) -> list:
    return [op for op in result.module.walk() if isinstance(op, kind)]


def params_of(op: TransformOp | PredictOp) -> dict:
    return dict(op.params.data)


def value(attr: object) -> object:
    """A params value as Python: an int or a str."""
    if isinstance(attr, IntegerAttr):
        return attr.value.data
    assert isinstance(attr, StringAttr)
    return attr.data


def blob(result: FrontendResult, attr: object) -> np.ndarray:
    assert isinstance(attr, BlobAttr)
    data = result.blobs[attr.symbol.data]
    assert tuple(data.shape) == attr.shape
    return data


def terms(result: FrontendResult, params: dict, prefix: str) -> list[str]:
    """The terms of a ``<prefix>_*`` term table, each found at its index by hashing."""
    points = blob(result, params[f"{prefix}_codepoints"])
    offsets = blob(result, params[f"{prefix}_offsets"])
    table = blob(result, params[f"{prefix}_table"]).reshape(-1, 2)
    probes = value(params[f"{prefix}_probes"])
    assert points.dtype == np.int32 and offsets.dtype == np.int64
    bounds = zip(offsets[:-1], offsets[1:], strict=True)
    found = ["".join(map(chr, points[start:end])) for start, end in bounds]
    mask = len(table) - 1
    for index, term in enumerate(found):
        home = tt.home_slot(tt.term_key(term), len(table))
        slots = [(home + step) & mask for step in range(probes)]
        assert index in [table[s, 1] for s in slots], term
    return found


def vocabulary(vec: CountVectorizer) -> list[str]:
    out = [""] * len(vec.vocabulary_)
    for term, index in vec.vocabulary_.items():
        out[index] = term
    return out


# region Text arguments


@pytest.mark.parametrize(
    "texts",
    [DOCS, tuple(DOCS), np.array(DOCS), np.array(DOCS, dtype=object), pd.Series(DOCS),
     pd.Series(DOCS, dtype=object), []],
    ids=["list", "tuple", "unicode-array", "object-array", "series", "object-series", "empty"],
)  # fmt: skip
def test_text_argument(texts) -> None:
    vec = CountVectorizer().fit(DOCS)
    result = trace_to_module(transform, (texts, vec))
    result.module.verify()
    spec = result.arguments[0]
    assert (spec.name, spec.kind, spec.columns) == ("texts", "strings", [("texts", "str")])
    assert str(spec.type) == '!pipeline.frame<"texts" : !pipeline.str>'
    assert ops(result) == ["pipeline.transform", "func.return"]
    width = len(vec.vocabulary_)
    assert f'-> tensor<?x{width}xi64, "csr">' in str(result.module)
    assert result.returns_sparse and result.python_calls == {}


@pytest.mark.parametrize("texts", [["a", None], ["a", 3], np.array([["a"]]), "one document"],
                         ids=["none", "int", "2-D", "str"])  # fmt: skip
def test_not_a_text_argument(texts) -> None:
    with pytest.raises(FrontendError, match="argument 'texts'"):
        trace_to_module(transform, (texts, CountVectorizer().fit(DOCS)))


# endregion
# region Vectorizer params


def test_count_vectorizer_params() -> None:
    vec = CountVectorizer().fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    (op,) = the(result, TransformOp)
    params = params_of(op)
    assert op.estimator.data == "CountVectorizer"
    assert set(params) == SHARED | {f"vocab_{k}" for k in TERMS}
    assert {k: value(params[k]) for k in SHARED - {"char_index", "char_blocks", "char_sequences",
                                                   "char_classes"}} == {  # fmt: skip
        "analyzer": "word", "ngram_min": 1, "ngram_max": 1, "lowercase": 1,
        "strip_accents": "none", "max_expansion": tt.char_map(True, None).max_expansion,
        "binary": 0,
    }  # fmt: skip
    assert terms(result, params, "vocab") == vocabulary(vec)
    chars = tt.char_map(True, None)
    for key, expected in (("char_index", chars.index), ("char_blocks", chars.blocks),
                          ("char_sequences", chars.sequences),
                          ("char_classes", tt.char_classes())):  # fmt: skip
        data = blob(result, params[key])
        assert data.dtype == expected.dtype
        np.testing.assert_array_equal(data, expected)
    assert str(op.result.type) == f'tensor<?x{len(vec.vocabulary_)}xi64, "csr">'


OPTIONS = [
    dict(analyzer="char", ngram_range=(1, 3)),
    dict(analyzer="char_wb", ngram_range=(2, 4)),
    dict(ngram_range=(1, 2), lowercase=False),
    dict(ngram_range=(2, 3)),
    dict(strip_accents="ascii"),
    dict(strip_accents="unicode", lowercase=False),
    dict(binary=True, dtype=np.float32),
    dict(dtype=np.float64, max_features=20, min_df=2),
    dict(analyzer="char", token_pattern=r"\w", tokenizer=str.split),  # both ignored by "char"
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:The parameter .* will not be used")
@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_vectorizer_options(options) -> None:
    vec = CountVectorizer(**options).fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    assert result.python_calls == {}
    (op,) = the(result, TransformOp)
    params = params_of(op)
    strip = options.get("strip_accents")
    lowercase = options.get("lowercase", True)
    expected = {
        "analyzer": options.get("analyzer", "word"),
        "ngram_min": options.get("ngram_range", (1, 1))[0],
        "ngram_max": options.get("ngram_range", (1, 1))[1],
        "lowercase": int(lowercase),
        "strip_accents": strip or "none",
        "binary": int(options.get("binary", False)),
        "max_expansion": tt.char_map(lowercase, strip).max_expansion,
    }
    assert {k: value(params[k]) for k in expected} == expected
    np.testing.assert_array_equal(blob(result, params["char_blocks"]),
                                  tt.char_map(lowercase, strip).blocks)  # fmt: skip
    assert terms(result, params, "vocab") == vocabulary(vec)
    elements = {np.int64: "i64", np.float64: "f64", np.float32: "f32"}
    element = elements[options.get("dtype", np.int64)]
    assert str(op.result.type) == f'tensor<?x{len(vec.vocabulary_)}x{element}, "csr">'
    assert not any(k.startswith("stop_") for k in params)


@pytest.mark.parametrize("stop_words", ["english", ["the", "fox", "über"]])
def test_stop_words(stop_words) -> None:
    vec = CountVectorizer(stop_words=stop_words, ngram_range=(1, 2)).fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    params = params_of(the(result, TransformOp)[0])
    assert set(params) == SHARED | {f"{p}_{k}" for p in ("vocab", "stop") for k in TERMS}
    assert terms(result, params, "stop") == sorted(vec.get_stop_words())
    if stop_words == "english":
        assert terms(result, params, "stop") == sorted(ENGLISH_STOP_WORDS)


@pytest.mark.filterwarnings("ignore:The parameter 'stop_words' will not be used")
@pytest.mark.parametrize("analyzer", ["char", "char_wb"])
def test_char_analyzers_ignore_stop_words(analyzer) -> None:
    vec = CountVectorizer(analyzer=analyzer, stop_words="english").fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    assert not any(k.startswith("stop_") for k in params_of(the(result, TransformOp)[0]))


def test_fixed_vocabulary_order() -> None:
    vec = CountVectorizer(vocabulary={"fox": 2, "dog": 0, "zürich": 1}).fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    assert terms(result, params_of(the(result, TransformOp)[0]), "vocab") == ["dog", "zürich",
                                                                              "fox"]  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [dict(), dict(use_idf=False), dict(smooth_idf=False, sublinear_tf=True), dict(norm="l1"),
     dict(norm=None, binary=True), dict(dtype=np.float32, analyzer="char_wb")],
    ids=repr,
)  # fmt: skip
def test_tfidf_vectorizer(options) -> None:
    vec = TfidfVectorizer(**options).fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    (op,) = the(result, TransformOp)
    params = params_of(op)
    weighting = {"sublinear_tf", "norm"} | ({"idf"} if vec.use_idf else set())
    assert set(params) == SHARED | {f"vocab_{k}" for k in TERMS} | weighting
    assert value(params["norm"]) == (options.get("norm", "l2") or "none")
    assert value(params["sublinear_tf"]) == int(options.get("sublinear_tf", False))
    assert value(params["binary"]) == int(options.get("binary", False))
    dtype = np.dtype(options.get("dtype", np.float64))
    if vec.use_idf:
        idf = blob(result, params["idf"])
        assert idf.dtype == dtype
        np.testing.assert_array_equal(idf, vec.idf_)
    element = "f32" if dtype == np.float32 else "f64"
    assert str(op.result.type) == f'tensor<?x{len(vec.vocabulary_)}x{element}, "csr">'
    assert terms(result, params, "vocab") == vocabulary(vec)


@pytest.mark.parametrize(
    "options",
    [dict(), dict(n_features=2**10, alternate_sign=False, norm="l1"),
     dict(n_features=64, norm=None, binary=True, analyzer="char", ngram_range=(2, 2)),
     dict(dtype=np.float32, stop_words="english")],
    ids=repr,
)  # fmt: skip
def test_hashing_vectorizer(options) -> None:
    vec = HashingVectorizer(**options)
    result = trace_to_module(transform, (DOCS, vec))
    (op,) = the(result, TransformOp)
    params = params_of(op)
    stop = {f"stop_{k}" for k in TERMS} if "stop_words" in options else set()
    assert set(params) == SHARED | {"n_features", "alternate_sign", "norm"} | stop
    assert value(params["n_features"]) == vec.n_features
    assert value(params["alternate_sign"]) == int(vec.alternate_sign)
    assert value(params["norm"]) == (vec.norm or "none")
    element = "f32" if options.get("dtype") == np.float32 else "f64"
    assert str(op.result.type) == f'tensor<?x{vec.n_features}x{element}, "csr">'


def test_tfidf_transformer_pipeline() -> None:
    model = Pipeline([("counts", CountVectorizer(ngram_range=(1, 2))),
                      ("tfidf", TfidfTransformer(sublinear_tf=True)),
                      ("lr", LogisticRegression())]).fit(DOCS, LABELS)  # fmt: skip
    result = trace_to_module(proba, (DOCS, model))
    assert ops(result) == ["pipeline.transform", "pipeline.transform", "pipeline.predict",
                           "pipeline.take_column", "func.return"]  # fmt: skip
    counts, tfidf = the(result, TransformOp)
    width = len(model["counts"].vocabulary_)
    assert str(counts.result.type) == f'tensor<?x{width}xi64, "csr">'
    assert str(tfidf.result.type) == f'tensor<?x{width}xf64, "csr">'
    assert tfidf.estimator.data == "TfidfTransformer"
    params = params_of(tfidf)
    assert set(params) == {"idf", "sublinear_tf", "norm"}
    np.testing.assert_array_equal(blob(result, params["idf"]), model["tfidf"].idf_)
    (predict,) = the(result, PredictOp)
    assert predict.input.type == tfidf.result.type
    assert not result.returns_sparse and result.python_calls == {}


def test_tfidf_transformer_float32_counts() -> None:
    counts = CountVectorizer(dtype=np.float32).fit(DOCS)
    tfidf64 = TfidfTransformer().fit(CountVectorizer().fit_transform(DOCS))
    tfidf32 = TfidfTransformer().fit(counts.transform(DOCS))

    def f(texts, counts, tfidf):
        return tfidf.transform(counts.transform(texts))

    result = trace_to_module(f, (DOCS, counts, tfidf32))
    (_, op) = the(result, TransformOp)
    assert blob(result, params_of(op)["idf"]).dtype == np.float32
    assert 'xf32, "csr">' in str(op.result.type)
    # float32 counts times a float64 idf_ is computed in float64, then rounded: Python
    result = trace_to_module(f, (DOCS, counts, tfidf64))
    (call,) = result.python_calls.values()
    assert "float32 counts with a float64 idf_" in call.reason


# endregion
# region Composition


@pytest.mark.parametrize("model", [LogisticRegression(), SGDClassifier(random_state=0),
                                   LinearSVC()], ids=repr)  # fmt: skip
def test_vectorizer_into_classifier(model) -> None:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(DOCS)
    model.fit(vec.transform(DOCS), LABELS)

    def predict(texts, vec, model):
        return model.predict(vec.transform(texts))

    result = trace_to_module(predict, (DOCS, vec, model))
    (op,) = the(result, PredictOp)
    assert str(op.input.type) == f'tensor<?x{len(vec.vocabulary_)}xf64, "csr">'
    assert ops(result)[:2] == ["pipeline.transform", "pipeline.predict"]


@pytest.mark.parametrize("model", [Ridge(), LinearRegression()], ids=repr)
def test_counts_into_regressor(model) -> None:
    vec = CountVectorizer().fit(DOCS)
    model.fit(vec.transform(DOCS), LABELS * 1.5)

    def predict(texts, vec, model):
        return model.predict(vec.transform(texts))

    result = trace_to_module(predict, (DOCS, vec, model))
    assert ops(result) == ["pipeline.transform", "pipeline.predict", "func.return"]
    assert result.python_calls == {}


def test_float32_features_into_a_model_run_in_python() -> None:
    """scikit-learn's linear models compute in float32 on float32 sparse input."""
    model = Pipeline([("v", TfidfVectorizer(dtype=np.float32)),
                      ("lr", LogisticRegression())]).fit(DOCS, LABELS)  # fmt: skip
    result = trace_to_module(proba, (DOCS, model))
    assert ops(result)[:2] == ["pipeline.transform", "pipeline.python_call"]
    reasons = [c.reason for c in result.python_calls.values()]
    assert "LogisticRegression of float32 sparse input computes in float32" in reasons[0]


def test_feature_union_and_sparse_hstack() -> None:
    word, char = TfidfVectorizer(), CountVectorizer(analyzer="char", dtype=np.float32)
    union = FeatureUnion([("w", word), ("c", char), ("gone", "drop")]).fit(DOCS)
    model = Pipeline([("u", union), ("lr", LogisticRegression())]).fit(DOCS, LABELS)
    result = trace_to_module(proba, (DOCS, model))
    (hstack,) = the(result, HstackOp)
    width = sum(len(v.vocabulary_) for v in (model["u"].named_transformers[n] for n in "wc"))
    assert str(hstack.result.type) == f'tensor<?x{width}xf64, "csr">'
    assert len(hstack.inputs) == 2 and result.python_calls == {}

    def stacked(texts, word, char, clf):
        x = sp.hstack([word.transform(texts), char.transform(texts)], format="csr")
        return clf.predict_proba(x)

    word, char = model["u"].named_transformers["w"], model["u"].named_transformers["c"]
    result = trace_to_module(stacked, (DOCS, word, char, model["lr"]))
    (hstack,) = the(result, HstackOp)
    assert str(hstack.result.type) == f'tensor<?x{width}xf64, "csr">'
    assert result.python_calls == {}


def test_feature_union_with_weights_runs_in_python() -> None:
    union = FeatureUnion([("w", CountVectorizer())], transformer_weights={"w": 2.0}).fit(DOCS)
    result = trace_to_module(transform, (DOCS, union))
    (call,) = result.python_calls.values()
    assert "transformer_weights" in call.reason


@pytest.fixture(scope="module")
def frame() -> SimpleNamespace:
    df = pd.DataFrame({"text": DOCS, "city": (["Oslo", "Lima", "Zürich"] * 16),
                       "n": np.arange(len(DOCS), dtype=float)})  # fmt: skip
    return SimpleNamespace(df=df, y=LABELS)


def test_column_transformer_with_text_column(frame) -> None:
    ct = ColumnTransformer([("t", TfidfVectorizer(), "text"),
                            ("c", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                            ("n", StandardScaler(), ["n"])])  # fmt: skip
    model = Pipeline([("f", ct), ("lr", LogisticRegression())]).fit(frame.df, frame.y)
    result = trace_to_module(proba, (frame.df, model))
    assert result.python_calls == {}
    text = str(result.module)
    assert 'pipeline.select_columns %0 ["text"]' in text
    assert '-> !pipeline.frame<"text" : !pipeline.str>' in text
    (hstack,) = the(result, HstackOp)
    width = len(model["f"].named_transformers_["t"].vocabulary_) + 3 + 1
    assert str(hstack.result.type) == f'tensor<?x{width}xf64, "csr">'
    assert [str(v.type).endswith('"csr">') for v in hstack.inputs] == [True, False, False]


def test_column_transformer_dense_output_of_text(frame) -> None:
    ct = ColumnTransformer([("t", CountVectorizer(), "text"), ("n", "passthrough", ["n"])],
                           sparse_threshold=0.0).fit(frame.df)  # fmt: skip
    result = trace_to_module(transform, (frame.df, ct))
    assert result.python_calls == {} and not result.returns_sparse
    (hstack,) = the(result, HstackOp)
    width = len(ct.named_transformers_["t"].vocabulary_) + 1
    assert str(hstack.result.type) == f"tensor<?x{width}xf64>"


def test_column_transformer_union_of_vectorizers_on_one_column(frame) -> None:
    union = FeatureUnion([("w", TfidfVectorizer()), ("c", TfidfVectorizer(analyzer="char"))])
    ct = ColumnTransformer([("t", union, "text")]).fit(frame.df)
    result = trace_to_module(transform, (frame.df, ct))
    assert result.python_calls == {}
    assert ops(result) == ["pipeline.select_columns", "pipeline.transform", "pipeline.transform",
                           "pipeline.hstack", "pipeline.hstack", "func.return"]  # fmt: skip


def test_sparse_hstack_to_csc_runs_in_python() -> None:
    vec = TfidfVectorizer().fit(DOCS)

    def f(texts, vec):
        return sp.hstack([vec.transform(texts), vec.transform(texts)], format="csc")

    result = trace_to_module(f, (DOCS, vec))
    assert ops(result) == ["pipeline.transform", "pipeline.transform", "pipeline.python_call",
                           "func.return"]  # fmt: skip
    assert "gives a CSC matrix, not CSR" in next(iter(result.python_calls.values())).reason


def as_matrix(column: pd.Series) -> np.ndarray:
    return column.to_numpy()[:, None]


def test_single_name_selection_of_a_numeric_column_runs_in_python(frame) -> None:
    ct = ColumnTransformer([("n", FunctionTransformer(as_matrix), "n")]).fit(frame.df)
    result = trace_to_module(transform, (frame.df, ct))
    (call,) = result.python_calls.values()
    assert "single-name column selection" in call.reason


def test_frame_column_subscript(frame) -> None:
    vec = TfidfVectorizer().fit(DOCS)

    def f(df, vec):
        return vec.transform(df["text"])

    result = trace_to_module(f, (frame.df, vec))
    assert ops(result) == ["pipeline.select_columns", "pipeline.transform", "func.return"]
    assert result.python_calls == {}


def test_python_call_sees_the_selected_series(frame) -> None:
    vec = CountVectorizer(tokenizer=str.split, token_pattern=None).fit(DOCS)

    def f(df, vec):
        return vec.transform(df["text"])

    result = trace_to_module(f, (frame.df, vec))
    (call,) = result.python_calls.values()
    # at run time a selection is a one-column DataFrame; the code still gets the Series
    (got,) = call.function(frame.df[["text"]])
    assert (got != vec.transform(frame.df["text"])).nnz == 0


def test_vectorizer_of_a_dataframe_is_not_per_row(frame) -> None:
    """``vec.transform(df[["text"]])`` iterates over column names: never compiled per row."""
    vec = CountVectorizer().fit(DOCS)

    def f(df, vec):
        return vec.transform(df[["text"]])

    result = trace_to_module(f, (frame.df, vec))
    (call,) = result.python_calls.values()
    assert "only a list, 1-D array or Series of str" in call.reason


def test_python_text_result_feeds_a_vectorizer() -> None:
    vec = CountVectorizer().fit(DOCS)

    def f(texts, vec):
        cleaned = [t.replace("!", " ") for t in texts]
        return vec.transform(cleaned)

    result = trace_to_module(f, (DOCS, vec))
    assert ops(result) == ["pipeline.python_call", "pipeline.transform", "func.return"]
    assert "!pipeline.str" in str(the(result, TransformOp)[0].input.type)


def test_python_sparse_result_feeds_a_model() -> None:
    vec = CountVectorizer(tokenizer=str.split, token_pattern=None).fit(DOCS)
    clf = LogisticRegression().fit(vec.transform(DOCS), LABELS)

    def f(texts, vec, clf):
        return clf.decision_function(vec.transform(texts))

    result = trace_to_module(f, (DOCS, vec, clf))
    assert ops(result) == ["pipeline.python_call", "pipeline.predict", "func.return"]
    (op,) = the(result, PredictOp)
    assert str(op.input.type) == f'tensor<?x{len(vec.vocabulary_)}xi64, "csr">'


def test_no_arithmetic_on_sparse_matrices() -> None:
    vec = TfidfVectorizer().fit(DOCS)

    def f(texts, vec):
        return vec.transform(texts) * 2.0

    result = trace_to_module(f, (DOCS, vec))
    assert ops(result) == ["pipeline.transform", "pipeline.python_call", "func.return"]


def test_onehot_sparse_output_stays_dense_in_ir(frame) -> None:
    ohe = OneHotEncoder().fit(frame.df[["city"]])

    def f(df, ohe):
        return ohe.transform(df[["city"]])

    result = trace_to_module(f, (frame.df, ohe))
    assert str(the(result, TransformOp)[0].result.type) == "tensor<?x3xf64>"
    assert result.returns_sparse


# endregion
# region Not reproducible: Python, with the reason


@pytest.mark.parametrize(
    ("vec", "reason"),
    [
        (CountVectorizer(token_pattern=r"\b[a-z]+\b"), r"token_pattern='\\b[a-z]+\\b') is not "
                                                      "supported natively: only the default"),
        (CountVectorizer(tokenizer=str.split, token_pattern=None), "custom tokenizer"),
        (TfidfVectorizer(preprocessor=str.upper), "custom preprocessor"),
        (CountVectorizer(analyzer=str.split), "callable analyzer"),
        (HashingVectorizer(strip_accents=str.lower), "strip_accents=<method"),
        (TfidfVectorizer(dtype=np.int32), "dtype=int32"),
        (CountVectorizer(dtype=np.int32), "dtype=int32"),
    ],
    ids=["token_pattern", "tokenizer", "preprocessor", "analyzer", "strip_accents", "tfidf-int",
         "count-int32"],
)  # fmt: skip
def test_unsupported_options_run_in_python(vec, reason) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TfidfVectorizer(dtype=int32) warns
        vec.fit(DOCS)
    result = trace_to_module(transform, (DOCS, vec))
    result.module.verify()
    (call,) = result.python_calls.values()
    assert reason in call.reason
    assert ops(result) == ["pipeline.python_call", "func.return"]
    assert any(reason in note for note in result.notes)


def test_file_input_runs_in_python(tmp_path) -> None:
    vec = CountVectorizer().fit(DOCS)
    vec.input = "filename"
    path = tmp_path / "doc.txt"
    path.write_text(DOCS[0])
    result = trace_to_module(transform, ([str(path)], vec))
    (call,) = result.python_calls.values()
    assert "input='filename'" in call.reason


# endregion
