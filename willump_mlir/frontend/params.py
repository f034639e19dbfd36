"""Fitted scikit-learn parameters as ``pipeline`` attributes and blobs.

This is the only module that reads fitted scikit-learn attributes. ``EXTRACTORS`` maps an
estimator class to the function that turns a fitted instance into the ``params`` of its
``pipeline.transform`` / ``pipeline.predict`` op, or raises ``Unsupported`` with the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ARDRegression,
    BayesianRidge,
    ElasticNet,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.linear_model._base import (
    LinearClassifierMixin,
    LinearModel,
    MultiOutputLinearModel,
)
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    f32,
    f64,
    i64,
)
from xdsl.ir import Attribute

from willump_mlir.abi import MISSING_NAN, MISSING_NONE
from willump_mlir.blobs import BlobStore
from willump_mlir.dialects.feature import string_table
from willump_mlir.dialects.pipeline import LINEAR_CLASSIFIERS, LINEAR_REGRESSORS, sparse_batch_of

from . import boosters, text_tables
from .sklearn_trees import EXTRACTORS as TREE_EXTRACTORS
from .spec import Unsupported
from .types import SPARSE_ELEMENTS


@dataclass
class Lowered:
    """How one estimator method becomes a ``pipeline`` op."""

    op: str  # "transform" | "predict"
    estimator: str
    params: dict[str, Attribute]
    class_indices: bool = False  # "predict" of a classifier: the op yields class indices
    result: Attribute | None = None  # the result type, when the estimator fixes it (sparse)
    method: str | None = None  # the op's method, when not the called one (a Booster's predict)
    column: int | None = None  # the call returns this column of the op's result


#: ``extractor(estimator, method, input column kinds, blobs) -> Lowered``. A kind is "f64" or
#: "str" for a column of a frame or a dense batch, ``"csr:<element>"`` for a sparse batch,
#: "category" for a pandas category column given as the codes the model maps it to
#: (``frontend.categories``: LightGBM and HistGradientBoosting only).
Extractor = Callable[[object, str, list[str], BlobStore], Lowered]


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def _float(value: float) -> FloatAttr:
    return FloatAttr(float(value), f64)


def _f64(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _stem(estimator: object, name: str) -> str:
    return f"{type(estimator).__name__.lower()}_{name}"


def _expect(estimator: object, method: str, methods: tuple[str, ...]) -> None:
    if method not in methods:
        raise Unsupported(f"{type(estimator).__name__}.{method} is not supported natively")


def sparse_kind(element: Attribute) -> str:
    """The column kind of a sparse batch of ``element``s."""
    return f"csr:{element}"


def _sparse_element(kinds: list[str]) -> str | None:
    """The element (``"f64"``, ``"f32"``, ``"i64"``) of a sparse input, None if dense."""
    return kinds[0][4:] if kinds and kinds[0].startswith("csr:") else None


def _expect_numeric(estimator: object, kinds: list[str], sparse: bool = False) -> None:
    """Dense numeric input, or (``sparse``) a sparse batch of f64 or i64 as well.

    scikit-learn's linear models compute in float32 on float32 sparse input (a float32
    vectorizer's output); the native code computes in float64, so that stays in Python.
    """
    element = _sparse_element(kinds)
    if sparse and element == "f32":
        raise Unsupported(f"{type(estimator).__name__} of float32 sparse input computes in "
                          "float32: not supported natively")  # fmt: skip
    allowed = "f64" if not sparse or element is None else kinds[0]
    if any(k != allowed for k in kinds):
        raise Unsupported(f"{type(estimator).__name__} needs numeric input")


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def output_config(estimator: object) -> str | None:
    """The ``set_output(transform=...)`` container, if not the default numpy one."""
    config = getattr(estimator, "_sklearn_output_config", {}) or {}
    container = config.get("transform")
    return None if container in (None, "default") else str(container)


# region Transformers


def _imputer(est: SimpleImputer, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    if not _is_missing(est.missing_values):
        raise Unsupported(
            f"SimpleImputer(missing_values={est.missing_values!r}) is not supported natively: "
            "only missing_values=np.nan"
        )
    stats = np.asarray(est.statistics_)
    if stats.dtype == object and all(  # strategy="constant" keeps the fill value as an object
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in stats
    ):
        stats = stats.astype(np.float64)
    if stats.dtype.kind not in "fiub":
        raise Unsupported("SimpleImputer with non-numeric statistics is not supported natively")
    stats = _f64(stats)
    if np.isnan(stats).any() and not est.keep_empty_features:
        raise Unsupported(
            "SimpleImputer drops all-missing columns (keep_empty_features=False): "
            "not supported natively"
        )
    params: dict[str, Attribute] = {"fill": blobs.add(_stem(est, "fill"), stats)}
    if np.isfinite(stats).all():  # the output is infinite only where the input is
        params["finite"] = _flag(True)
    if est.add_indicator:  # MissingIndicator(error_on_new=False) of the columns missing in fit
        params["indicator"] = ArrayAttr([_int(j) for j in est.indicator_.features_])
    return Lowered("transform", "SimpleImputer", params)


def imputed_strings(est: SimpleImputer, columns: int) -> list[tuple[str, int]]:
    """The str each of ``columns`` str columns' NaN becomes in ``est.transform``, with the
    marker of NaN (scikit-learn compares object data: None stays None, and the encoder after
    reads it); ``Unsupported`` unless ``est`` fills NaN (or None: ``missing_values=None``,
    which refuses NaN) with a str and keeps every column."""
    if est.missing_values is not None and not _is_missing(est.missing_values):
        raise Unsupported(f"SimpleImputer(missing_values={est.missing_values!r}) of str "
                          "columns is not supported natively: only np.nan or None")  # fmt: skip
    if est.add_indicator:
        raise Unsupported("SimpleImputer(add_indicator=True) is not supported natively")
    stats = list(np.asarray(est.statistics_, dtype=object))
    if len(stats) != columns or not all(isinstance(v, str) for v in stats):
        raise Unsupported("SimpleImputer of str columns is native only with str statistics "
                          "(most_frequent, or constant with a str fill_value)")  # fmt: skip
    return [(v, MISSING_NAN if est.missing_values is not None else MISSING_NONE) for v in stats]


def fill_codes(est: object, lowered: Lowered, fills: list[tuple[str, int] | None],
               filler: str) -> Lowered:  # fmt: skip
    """``lowered`` (an encoder's) reading str columns whose missing values (those of
    the marker: ``MISSING_NONE``, ``MISSING_NAN`` or both) ``filler`` (``SimpleImputer``,
    ``fillna``) filled with a str, per column (None: not filled): such a row takes the
    code of its fill; the op's ``filled_by`` names ``filler`` (for ``explain()``)."""
    if not isinstance(est, FRAME_INPUT):
        raise Unsupported(f"{type(est).__name__} after a fill of missing str is not compiled")
    columns = []
    for entry, fill, cats in zip(lowered.params["columns"].data, fills, est.categories_,  # type: ignore[attr-defined]
                                 strict=True):  # fmt: skip
        if fill is None:
            columns.append(entry)
            continue
        text, marker = fill
        known = [i for i, v in enumerate(cats) if isinstance(v, str) and v == text]
        if not known and est.handle_unknown == "error":  # pandas names the fill, not NaN
            raise Unsupported(f"the fill {text!r} is not a category of {type(est).__name__}")
        # the encoder's own None or NaN category (``missing``) keeps the ones not filled
        filled = {"filled": _int(known[0] if known else -1), "filled_marker": _int(marker)}
        if marker == MISSING_NONE:  # SimpleImputer(missing_values=None): NaN is refused
            filled["nan_refused"] = _int(1)
        columns.append(DictionaryAttr(dict(entry.data) | filled))
    params = dict(lowered.params) | {"columns": ArrayAttr(columns)}
    if any(fills):
        params["filled_by"] = StringAttr(filler)
    return dataclasses.replace(lowered, params=params)


def _standard(est: StandardScaler, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    params: dict[str, Attribute] = {}
    if est.with_mean:
        params["mean"] = blobs.add(_stem(est, "mean"), _f64(est.mean_))
    if est.with_std:
        params["scale"] = blobs.add(_stem(est, "scale"), _f64(est.scale_))
    return Lowered("transform", "StandardScaler", params)


def _robust(est: RobustScaler, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    params: dict[str, Attribute] = {}
    if est.with_centering:
        params["center"] = blobs.add(_stem(est, "center"), _f64(est.center_))
    if est.with_scaling:
        params["scale"] = blobs.add(_stem(est, "scale"), _f64(est.scale_))
    return Lowered("transform", "RobustScaler", params)


def _maxabs(est: MaxAbsScaler, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    return Lowered(
        "transform", "MaxAbsScaler", {"scale": blobs.add(_stem(est, "scale"), _f64(est.scale_))}
    )


def _minmax(est: MinMaxScaler, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    low, high = est.feature_range
    params: dict[str, Attribute] = {
        "scale": blobs.add(_stem(est, "scale"), _f64(est.scale_)),
        "min": blobs.add(_stem(est, "min"), _f64(est.min_)),
        "clip": _int(bool(est.clip)),
    }
    if est.clip:
        params["clip_range"] = blobs.add(_stem(est, "clip_range"), _f64([low, high]))
    return Lowered("transform", "MinMaxScaler", params)


def _normalizer(est: Normalizer, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    return Lowered("transform", "Normalizer", {"norm": StringAttr(est.norm)})


#: The most output columns of a native ``PolynomialFeatures``: each is a product in the
#: kernel's unrolled row loop, and compile time grows faster than their number (measured:
#: 560 columns compile in 4 s, 969 in 26 s, 1,540 in 64 s).
MAX_POLYNOMIAL_TERMS = 600


def _polynomial(est: PolynomialFeatures, method: str, kinds: list[str],
                blobs: BlobStore) -> Lowered:  # fmt: skip
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    if est.n_output_features_ == 0:
        raise Unsupported("PolynomialFeatures with no output column is not supported natively")
    if est.n_output_features_ > MAX_POLYNOMIAL_TERMS:
        raise Unsupported(f"PolynomialFeatures gives {est.n_output_features_} columns: native "
                          f"code unrolls at most {MAX_POLYNOMIAL_TERMS}")  # fmt: skip
    powers = np.asarray(est.powers_, dtype=np.int64)
    return Lowered("transform", "PolynomialFeatures",
                   {"powers": blobs.add(_stem(est, "powers"), powers)})  # fmt: skip


def _kbins(est: KBinsDiscretizer, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _expect_numeric(est, kinds)
    if est.dtype is not None and np.dtype(est.dtype) != np.float64:
        raise Unsupported(f"KBinsDiscretizer(dtype={np.dtype(est.dtype).name}) compares in "
                          "float32: not supported natively")  # fmt: skip
    columns = []
    for index, edges in enumerate(est.bin_edges_):
        edges = _f64(edges)
        if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges[1:-1]) < 0).any() \
                or np.isnan(edges).any():  # fmt: skip
            raise Unsupported(f"KBinsDiscretizer: the edges of column {index} are not "
                              "increasing")  # fmt: skip
        encoder = getattr(est, "_encoder", None)  # one-hot: its categories are the bins
        if encoder is not None and len(encoder.categories_[index]) != len(edges) - 1:
            raise Unsupported(f"KBinsDiscretizer: column {index} has {len(edges) - 1} bins, "
                              f"its encoder {len(encoder.categories_[index])}")  # fmt: skip
        columns.append(DictionaryAttr({"edges": blobs.add(_stem(est, f"edges{index}"), edges)}))
    return Lowered("transform", "KBinsDiscretizer",
                   {"encode": StringAttr(est.encode), "columns": ArrayAttr(columns)})  # fmt: skip


def _category_column(
    est: object, index: int, categories: np.ndarray, kind: str, drop: int, blobs: BlobStore
) -> DictionaryAttr:
    """One input column's categories as the ``columns`` entry of an encoder."""
    name = type(est).__name__
    missing = [i for i, v in enumerate(categories) if _is_missing(v)]
    if len(missing) > 1:
        raise Unsupported(f"{name}: column {index} has both None and NaN categories")
    entry: dict[str, Attribute] = {
        "missing": _int(missing[0] if missing else -1),
        "drop": _int(drop),
    }
    if missing and categories[missing[0]] is None:  # scikit-learn tells None from NaN
        entry["missing_marker"] = _int(MISSING_NONE)
    present = [v for i, v in enumerate(categories) if i not in missing]
    if categories.dtype.kind in "fiub":
        if kind != "f64":
            raise Unsupported(f"{name}: column {index} is text but was fitted on numbers")
        entry["kind"] = StringAttr("f64")
        entry["categories"] = blobs.add(_stem(est, f"categories{index}"), _f64(categories))
    elif all(isinstance(v, str) for v in present):
        if kind != "str":
            raise Unsupported(f"{name}: column {index} is numeric but was fitted on text")
        encoded = [b"" if _is_missing(v) else v.encode("utf-8") for v in categories]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(b) for b in encoded])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        table, probes = string_table([None if _is_missing(v) else v.encode("utf-8")
                                      for v in categories])  # fmt: skip
        entry["kind"] = StringAttr("str")
        entry["bytes"] = blobs.add(_stem(est, f"bytes{index}"), data)
        entry["offsets"] = blobs.add(_stem(est, f"offsets{index}"), offsets)
        entry["table"] = blobs.add(_stem(est, f"table{index}"), table)
        entry["probes"] = _int(probes)
    else:
        raise Unsupported(f"{name} is not supported natively: mixed-type categories in column "
                          f"{index}")  # fmt: skip
    return DictionaryAttr(entry)


def _check_infrequent(est: OneHotEncoder | OrdinalEncoder) -> None:
    if getattr(est, "_infrequent_enabled", False):
        options = ", ".join(
            f"{option}={getattr(est, option)!r}"
            for option in ("min_frequency", "max_categories")
            if getattr(est, option, None) is not None
        )
        raise Unsupported(
            f"{type(est).__name__}({options}) is not supported natively: infrequent categories"
        )


def _onehot(est: OneHotEncoder, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """Each column's categories; its infrequent ones (``min_frequency``, ``max_categories``:
    scikit-learn's ``_infrequent_indices``, positions in ``categories_``) share the last
    one-hot column, which an unknown category takes with ``infrequent_if_exist``."""
    _expect(est, method, ("transform",))
    infrequent = getattr(est, "_infrequent_enabled", False)
    if infrequent and est.drop_idx_ is not None:
        raise Unsupported("OneHotEncoder with infrequent categories and drop is not "
                          "supported natively")  # fmt: skip
    if est.handle_unknown not in ("ignore", "error", "infrequent_if_exist"):
        raise Unsupported(
            f"OneHotEncoder(handle_unknown={est.handle_unknown!r}) is not supported natively"
        )
    if np.dtype(est.dtype) != np.float64:
        raise Unsupported(f"OneHotEncoder(dtype={est.dtype!r}) is not supported natively")
    drops = est.drop_idx_ if est.drop_idx_ is not None else [None] * len(est.categories_)
    columns = [
        _category_column(est, i, np.asarray(cats), kinds[i], -1 if d is None else int(d), blobs)
        for i, (cats, d) in enumerate(zip(est.categories_, drops, strict=True))
    ]
    for i, indices in enumerate(est._infrequent_indices if infrequent else []):
        if indices is not None and len(indices):
            extra = {"infrequent": ArrayAttr([_int(k) for k in sorted(indices)])}
            columns[i] = DictionaryAttr(dict(columns[i].data) | extra)
    return Lowered(
        "transform",
        "OneHotEncoder",
        {"handle_unknown": StringAttr(est.handle_unknown), "columns": ArrayAttr(columns)},
    )


def _target(est: TargetEncoder, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """Each column's categories and their ``encodings_`` (what ``transform`` gives; an
    unknown category gets ``target_mean_``). ``fit_transform``'s cross fitting is not
    ``transform``: only ``transform`` is compiled."""
    _expect(est, method, ("transform",))
    if est.target_type_ not in ("binary", "continuous"):
        raise Unsupported(f"TargetEncoder of a {est.target_type_} target (a column per class) "
                          "is not supported natively")  # fmt: skip
    columns = []
    for i, (cats, encodings) in enumerate(zip(est.categories_, est.encodings_, strict=True)):
        entry = _category_column(est, i, np.asarray(cats), kinds[i], -1, blobs)
        table = blobs.add(_stem(est, f"encodings{i}"), _f64(encodings).reshape(1, -1))
        columns.append(DictionaryAttr(dict(entry.data) | {"encodings": table}))
    params = {"target_mean": _float(est.target_mean_), "columns": ArrayAttr(columns)}
    return Lowered("transform", "TargetEncoder", params)


def _ordinal(est: OrdinalEncoder, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    _expect(est, method, ("transform",))
    _check_infrequent(est)
    if np.dtype(est.dtype) != np.float64:
        raise Unsupported(f"OrdinalEncoder(dtype={est.dtype!r}) is not supported natively")
    unknown = est.unknown_value if est.unknown_value is not None else math.nan
    columns = []
    for i, cats in enumerate(est.categories_):
        column = _category_column(est, i, np.asarray(cats), kinds[i], -1, blobs)
        none_index = [j for j, v in enumerate(cats) if v is None]
        if none_index:  # sklearn encodes a None category by its index; only NaN is "missing"
            extra = {"encoded_missing_value": _float(float(none_index[0]))}
            column = DictionaryAttr(dict(column.data) | extra)
        columns.append(column)
    return Lowered(
        "transform",
        "OrdinalEncoder",
        {
            "handle_unknown": StringAttr(est.handle_unknown),
            "unknown_value": _float(unknown),
            "encoded_missing_value": _float(est.encoded_missing_value),
            "columns": ArrayAttr(columns),
        },
    )


# endregion
# region Text

#: The only ``token_pattern`` of an analyzer="word" vectorizer that native code reproduces.
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
#: The ``token_pattern`` spellings native code reproduces: maximal runs of word characters
#: (``re``'s ``\w``, Unicode for a str pattern), of two or more (False) or one or more
#: (True: ``short_tokens``); ``\b`` around a greedy run changes nothing.
TOKEN_PATTERNS = {
    **dict.fromkeys((DEFAULT_TOKEN_PATTERN, r"\b\w\w+\b", r"(?u)\w\w+", r"\w\w+"), False),
    **dict.fromkeys((r"(?u)\b\w+\b", r"\b\w+\b", r"(?u)\w+", r"\w+"), True),
}
_STRIP_ACCENTS = ("ascii", "unicode")


def _flag(value: object) -> IntegerAttr:
    return _int(bool(value))


def _text_blobs(est: object, name: str, table: text_tables.TermTable,
                blobs: BlobStore) -> dict[str, Attribute]:  # fmt: skip
    """A term table as ``<name>_codepoints``, ``_offsets``, ``_table`` blobs and ``_probes``."""
    return {
        f"{name}_codepoints": blobs.add(_stem(est, f"{name}_codepoints"), table.codepoints),
        f"{name}_offsets": blobs.add(_stem(est, f"{name}_offsets"), table.offsets),
        f"{name}_table": blobs.add(_stem(est, f"{name}_table"), table.table),
        f"{name}_probes": _int(table.probes),
    }


def _analysis(est: object, blobs: BlobStore) -> dict[str, Attribute]:
    """The params every vectorizer shares: how a document becomes terms.

    Only what ``build_analyzer`` does with built-in steps is reproduced: a preprocessor, a
    tokenizer, a callable analyzer or strip_accents, a token_pattern other than the default
    (analyzer="word") or input other than "content" raise ``Unsupported``.
    """
    name = type(est).__name__
    if est.input != "content":
        raise Unsupported(f"{name}(input={est.input!r}) reads files: not supported natively")
    if callable(est.analyzer):
        raise Unsupported(f"{name} with a callable analyzer is not supported natively")
    if est.analyzer not in ("word", "char", "char_wb"):
        raise Unsupported(f"{name}(analyzer={est.analyzer!r}) is not supported natively")
    if est.preprocessor is not None:
        raise Unsupported(f"{name} with a custom preprocessor is not supported natively")
    if est.analyzer == "word" and est.tokenizer is not None:
        raise Unsupported(f"{name} with a custom tokenizer is not supported natively")
    if est.analyzer == "word" and est.token_pattern not in TOKEN_PATTERNS:
        raise Unsupported(f"{name}(token_pattern={est.token_pattern!r}) is not supported "
                          f"natively: only the default {DEFAULT_TOKEN_PATTERN!r} and "
                          r"\b\w+\b (words of one character too)")  # fmt: skip
    strip = est.strip_accents or None
    if strip is not None and (callable(strip) or strip not in _STRIP_ACCENTS):
        raise Unsupported(f"{name}(strip_accents={strip!r}) is not supported natively")
    low, high = est.ngram_range
    if not 1 <= low <= high:
        raise Unsupported(f"{name}(ngram_range={est.ngram_range!r}) is not supported natively")
    chars = text_tables.char_map(bool(est.lowercase), strip)
    params: dict[str, Attribute] = {
        "analyzer": StringAttr(est.analyzer),
        "ngram_min": _int(low),
        "ngram_max": _int(high),
        "lowercase": _flag(est.lowercase),
        "strip_accents": StringAttr(strip or "none"),
        "char_index": blobs.add("text_char_index", chars.index),
        "char_blocks": blobs.add("text_char_blocks", chars.blocks),
        "char_sequences": blobs.add("text_char_sequences", chars.sequences),
        "char_classes": blobs.add("text_char_classes", text_tables.char_classes()),
        "max_expansion": _int(chars.max_expansion),
        "binary": _flag(est.binary),
    }
    if est.analyzer == "word" and TOKEN_PATTERNS[est.token_pattern]:
        params["short_tokens"] = _flag(True)  # words of one character are tokens too
    stop_words = est.get_stop_words() if est.analyzer == "word" else None
    if stop_words:  # only str stop words can equal a token
        table = text_tables.term_table(sorted(w for w in stop_words if isinstance(w, str)))
        params |= _text_blobs(est, "stop", table, blobs)
    return params


def _vocabulary(est: CountVectorizer, blobs: BlobStore) -> tuple[dict[str, Attribute], int]:
    """The fitted ``vocabulary_`` as the ``vocab_*`` params (term i has index i), and its size."""
    name = type(est).__name__
    vocabulary = getattr(est, "vocabulary_", None)
    if not vocabulary:
        raise Unsupported(f"{name} is not fitted (no vocabulary_)")
    terms: list[str | None] = [None] * len(vocabulary)
    for term, index in vocabulary.items():
        if not isinstance(term, str) or not 0 <= index < len(terms) or terms[index] is not None:
            raise Unsupported(f"{name}: vocabulary_ is not a map of str terms to 0..n-1")
        terms[index] = term
    table = text_tables.term_table(terms)  # type: ignore[arg-type]
    return _text_blobs(est, "vocab", table, blobs), len(terms)


def _text_input(est: object, method: str, kinds: list[str]) -> None:
    _expect(est, method, ("transform",))
    if kinds != ["str"]:
        raise Unsupported(f"{type(est).__name__} needs one column of text documents")


def _element(est: object, dtype: np.dtype, allowed: tuple[type, ...]) -> Attribute:
    if dtype not in [np.dtype(a) for a in allowed]:
        raise Unsupported(f"{type(est).__name__}(dtype={dtype}) is not supported natively")
    return SPARSE_ELEMENTS[dtype]


def _norm(norm: str | None) -> StringAttr:
    return StringAttr(norm or "none")


def _weighting(est: object, tfidf: TfidfTransformer, element: Attribute,
               blobs: BlobStore) -> dict[str, Attribute]:  # fmt: skip
    """TfidfTransformer's ``transform`` params for a result of ``element`` (f64 or f32)."""
    params: dict[str, Attribute] = {"sublinear_tf": _flag(tfidf.sublinear_tf),
                                    "norm": _norm(tfidf.norm)}  # fmt: skip
    if hasattr(tfidf, "idf_"):  # transform weights by idf_ whenever it exists
        idf = np.asarray(tfidf.idf_)
        if element == f32 and idf.dtype != np.float32:
            # float32 counts times float64 idf_ is computed in float64, then rounded
            raise Unsupported(f"{type(est).__name__}: float32 counts with a {idf.dtype} idf_ "
                              "is not supported natively")  # fmt: skip
        dtype = np.float32 if element == f32 else np.float64
        params["idf"] = blobs.add(_stem(est, "idf"), idf.astype(dtype))
    if tfidf.sublinear_tf and element == f32:
        params["log_table"] = blobs.add("text_float32_log", float32_log_table())
    return params


LOG_TABLE_SIZE = 4096


def float32_log_table() -> np.ndarray:
    """``np.log`` of the float32 counts 0..4095, as numpy computes it on this machine.

    numpy's float32 ``log`` (what ``sublinear_tf`` applies to float32 counts) is not
    correctly rounded and its routine depends on the CPU, so native code reads it from this
    table; a row with a larger or fractional count runs in Python.
    """
    with np.errstate(divide="ignore"):
        return np.log(np.arange(LOG_TABLE_SIZE, dtype=np.float32))


def _count_vectorizer(est: CountVectorizer, method: str, kinds: list[str],
                      blobs: BlobStore) -> Lowered:  # fmt: skip
    _text_input(est, method, kinds)
    element = _element(est, np.dtype(est.dtype), (np.int64, np.float64, np.float32))
    params = _analysis(est, blobs)
    vocab, width = _vocabulary(est, blobs)
    return Lowered("transform", "CountVectorizer", params | vocab,
                   result=sparse_batch_of(width, element))  # fmt: skip


def _tfidf_vectorizer(est: TfidfVectorizer, method: str, kinds: list[str],
                      blobs: BlobStore) -> Lowered:  # fmt: skip
    _text_input(est, method, kinds)
    element = _element(est, np.dtype(est.dtype), (np.float64, np.float32))
    tfidf = getattr(est, "_tfidf", None)  # fitted with the tf-idf options of fit time
    if tfidf is None:
        raise Unsupported("TfidfVectorizer is not fitted")
    params = _analysis(est, blobs)
    vocab, width = _vocabulary(est, blobs)
    weighting = _weighting(est, tfidf, element, blobs)
    return Lowered("transform", "TfidfVectorizer", params | vocab | weighting,
                   result=sparse_batch_of(width, element))  # fmt: skip


def _hashing_vectorizer(est: HashingVectorizer, method: str, kinds: list[str],
                        blobs: BlobStore) -> Lowered:  # fmt: skip
    _text_input(est, method, kinds)
    element = _element(est, np.dtype(est.dtype), (np.float64, np.float32))
    params = _analysis(est, blobs) | {
        "n_features": _int(est.n_features),
        "alternate_sign": _flag(est.alternate_sign),
        "norm": _norm(est.norm),
    }
    return Lowered("transform", "HashingVectorizer", params,
                   result=sparse_batch_of(int(est.n_features), element))  # fmt: skip


def _tfidf_transformer(est: TfidfTransformer, method: str, kinds: list[str],
                       blobs: BlobStore) -> Lowered:  # fmt: skip
    _expect(est, method, ("transform",))
    counts = _sparse_element(kinds)
    if counts is None:
        raise Unsupported("TfidfTransformer of a dense input is not supported natively")
    element = f32 if counts == "f32" else f64  # transform computes in float32 or float64
    params = _weighting(est, est, element, blobs)
    return Lowered("transform", "TfidfTransformer", params,
                   result=sparse_batch_of(len(kinds), element))  # fmt: skip


# endregion
# region Models

_CLASSIFIER_METHODS = ("predict", "predict_proba", "decision_function")


def _linear(est: object, blobs: BlobStore) -> dict[str, Attribute]:
    coef = _f64(est.coef_)
    coef = coef.reshape(1, -1) if coef.ndim == 1 else coef
    intercept = np.atleast_1d(_f64(est.intercept_))
    if intercept.shape != (coef.shape[0],):
        intercept = np.broadcast_to(intercept, (coef.shape[0],)).copy()
    return {
        "coef": blobs.add(_stem(est, "coef"), coef),
        "intercept": blobs.add(_stem(est, "intercept"), intercept),
    }


#: ``predict`` implementations that return ``self._decision_function(X)`` (BayesianRidge's
#: and ARDRegression's when ``return_std`` is False, their default).
_LINEAR_PREDICTS = frozenset({
    LinearModel.predict, MultiOutputLinearModel.predict, Ridge.predict, RidgeCV.predict,
    BayesianRidge.predict, ARDRegression.predict, SGDRegressor.predict,
})  # fmt: skip
#: ``_decision_function`` implementations computing ``X @ coef_.T + intercept_``.
_LINEAR_DECISIONS = frozenset({
    LinearModel._decision_function, ElasticNet._decision_function,
    SGDRegressor._decision_function,
})  # fmt: skip
#: A classifier's ``predict``: the labels of the argmax of ``decision_function``
#: (RidgeClassifier's, unless fitted on multilabel targets).
_LINEAR_CLASS_PREDICTS = frozenset({LinearClassifierMixin.predict, RidgeClassifier.predict})


def linear_role(est: object) -> str | None:
    """"classifier" or "regressor" when ``est``'s methods are scikit-learn's linear ones
    (``X @ coef_.T + intercept_``, then an argmax for a classifier's ``predict``), whatever
    its class; None otherwise (a subclass overriding one of them, a GLM, RANSAC)."""
    cls = type(est)
    if getattr(cls, "decision_function", None) is LinearClassifierMixin.decision_function:
        binarizer = getattr(est, "_label_binarizer", None)  # RidgeClassifier's
        multilabel = binarizer is not None and binarizer.y_type_.startswith("multilabel")
        return "classifier" if cls.predict in _LINEAR_CLASS_PREDICTS and not multilabel else None
    if getattr(cls, "predict", None) in _LINEAR_PREDICTS and \
            getattr(cls, "_decision_function", None) in _LINEAR_DECISIONS:  # fmt: skip
        return "regressor"
    return None


def _linear_name(est: object, names: tuple[str, ...]) -> str:
    """The scikit-learn class among ``names`` ``est`` is (or derives from unchanged)."""
    for cls in type(est).__mro__:
        if cls.__name__ in names and cls.__module__.startswith("sklearn."):
            return cls.__name__
    raise Unsupported(f"{type(est).__name__} is not supported natively")


def _defined(cls: type, name: str) -> object:
    """The attribute ``name`` of ``cls`` as its class body defines it (a descriptor such as
    ``available_if`` unresolved), None if no class in its MRO does."""
    return next((c.__dict__[name] for c in cls.__mro__ if name in c.__dict__), None)


def _proba(est: object) -> str:
    """How ``est.predict_proba`` turns decision values into probabilities (``proba``)."""
    predict_proba = _defined(type(est), "predict_proba")
    if predict_proba is _defined(LogisticRegression, "predict_proba"):
        # sklearn 1.9: two classes -> expit with [1 - p, p]; more -> softmax of the decision.
        return "binary_sigmoid" if len(est.classes_) <= 2 else "softmax"
    if predict_proba is not _defined(SGDClassifier, "predict_proba"):
        return "none"
    if est.loss == "log_loss":
        # _predict_proba_lr: expit of the decision; [1 - p, p] if binary, else normalised.
        return "binary_sigmoid" if np.asarray(est.coef_).shape[0] == 1 else "ovr_sigmoid"
    return "modified_huber" if est.loss == "modified_huber" else "none"


def _linear_model(est: object, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """A linear classifier's or regressor's methods (``linear_role``)."""
    _expect_numeric(est, kinds, sparse=True)
    if linear_role(est) == "regressor":
        _expect(est, method, ("predict",))
        return Lowered("predict", _linear_name(est, LINEAR_REGRESSORS), _linear(est, blobs))
    _expect(est, method, _CLASSIFIER_METHODS)
    proba = _proba(est)
    if method == "predict_proba" and proba == "none":
        raise Unsupported(f"{type(est).__name__}.predict_proba is not supported natively")
    params = _linear(est, blobs) | {"proba": StringAttr(proba)}
    return Lowered("predict", _linear_name(est, LINEAR_CLASSIFIERS), params,
                   class_indices=method == "predict")  # fmt: skip


# endregion

EXTRACTORS: dict[type, Extractor] = {
    SimpleImputer: _imputer,
    StandardScaler: _standard,
    RobustScaler: _robust,
    MaxAbsScaler: _maxabs,
    MinMaxScaler: _minmax,
    Normalizer: _normalizer,
    PolynomialFeatures: _polynomial,
    KBinsDiscretizer: _kbins,
    OneHotEncoder: _onehot,
    OrdinalEncoder: _ordinal,
    TargetEncoder: _target,
    CountVectorizer: _count_vectorizer,
    TfidfVectorizer: _tfidf_vectorizer,
    HashingVectorizer: _hashing_vectorizer,
    TfidfTransformer: _tfidf_transformer,
    **TREE_EXTRACTORS,
}

#: Estimators whose methods take a frame of str/f64 columns as well as a numeric tensor.
FRAME_INPUT: tuple[type, ...] = (OneHotEncoder, OrdinalEncoder, TargetEncoder)
#: Estimators that read one document per item of a 1-D sequence of str.
TEXT_INPUT: tuple[type, ...] = (CountVectorizer, TfidfVectorizer, HashingVectorizer)
#: Estimators whose native op reads a sparse batch (and the linear models: ``linear_role``).
SPARSE_INPUT: tuple[type, ...] = (TfidfTransformer,)


def reads_text(est: object) -> bool:
    """Whether ``est.transform`` reads text documents: a vectorizer, a Pipeline starting with
    one, or a FeatureUnion of them."""
    if isinstance(est, Pipeline):
        steps = pipeline_steps(est)
        return bool(steps) and reads_text(steps[0][1])
    if isinstance(est, FeatureUnion):
        parts = _union_parts(est)
        return bool(parts) and all(reads_text(t) for _, t in parts)
    return isinstance(est, TEXT_INPUT)


def lower_estimator(est: object, method: str, kinds: list[str], blobs: BlobStore) -> Lowered:
    """The op for ``est.method(X)`` whose input columns have ``kinds``, or ``Unsupported``."""
    extractor = EXTRACTORS.get(type(est))
    if extractor is None and linear_role(est) is not None:
        extractor = _linear_model
    if extractor is None and boosters.library(est) is not None:  # optional libraries
        extractor = boosters.extract
    if extractor is None:
        raise Unsupported(f"{type(est).__name__} is not supported natively")
    container = output_config(est)
    if container is not None:
        raise Unsupported(f"{type(est).__name__}.set_output(transform={container!r}) is not "
                          "supported natively")  # fmt: skip
    if _sparse_element(kinds) is not None and not isinstance(est, SPARSE_INPUT) \
            and extractor is not _linear_model:  # fmt: skip
        raise Unsupported(f"{type(est).__name__} of a sparse matrix is not supported natively")
    if getattr(est, "n_features_in_", len(kinds)) != len(kinds):
        raise Unsupported(
            f"{type(est).__name__} was fitted on {est.n_features_in_} columns, got {len(kinds)}"
        )
    return extractor(est, method, kinds, blobs)


def class_labels(est: object) -> np.ndarray:
    """The class labels a classifier's ``predict`` looks its indices up in."""
    return est.classes_


# region Composite estimators (structure only)


def pipeline_steps(pipe: Pipeline) -> list[tuple[str, object]]:
    """The steps of a fitted Pipeline, without 'passthrough' / None steps."""
    return [(n, s) for n, s in pipe.steps if s is not None and s != "passthrough"]


def _union_parts(union: FeatureUnion) -> list[tuple[str, object]]:
    return [(n, t) for n, t in union.transformer_list if not (isinstance(t, str) and t == "drop")]


def feature_union_parts(union: FeatureUnion) -> list[tuple[str, object]]:
    """The (name, transformer) parts of a fitted FeatureUnion, without 'drop' parts."""
    if union.transformer_weights:
        raise Unsupported("FeatureUnion with transformer_weights is not supported natively")
    return _union_parts(union)


def column_transformer_parts(
    ct: ColumnTransformer, input_columns: list[str] | None
) -> list[tuple[str, object, list[int] | list[str], bool]]:
    """Fitted (name, transformer, columns, scalar) parts; drops 'drop' and empty selections.

    ``columns`` are names when the input is a frame, else positions; ``scalar`` is True for a
    single-name selection (the transformer then sees a 1-D column).
    """
    names = input_columns
    fitted = getattr(ct, "feature_names_in_", None)
    fitted_names = [str(n) for n in fitted] if fitted is not None else []
    parts = []
    for name, trans, columns in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        scalar = isinstance(columns, (str, int, np.integer))
        selection = _resolve_columns(columns, names or fitted_names, ct.n_features_in_)
        if not selection:
            continue
        if names is not None:
            picked = [names[c] if isinstance(c, (int, np.integer)) else c for c in selection]
        else:
            if any(isinstance(c, str) for c in selection):
                picked = [fitted_names.index(c) for c in selection]
            else:
                picked = [int(c) for c in selection]
        parts.append((name, trans, picked, scalar))
    return parts


def _resolve_columns(columns: object, names: list[str], width: int) -> list[int] | list[str]:
    """A ColumnTransformer column spec as a list of names or positions."""
    if callable(columns):
        raise Unsupported("ColumnTransformer with a callable column selector")
    if isinstance(columns, (str, int, np.integer)):
        return [columns]
    if isinstance(columns, slice):
        if any(isinstance(b, str) for b in (columns.start, columns.stop)):
            raise Unsupported("ColumnTransformer with a slice of column names")
        return list(range(width))[columns]
    values = list(columns)
    if values and all(isinstance(v, (bool, np.bool_)) for v in values):
        return [i for i, keep in enumerate(values) if keep]
    return [int(v) if isinstance(v, (int, np.integer)) else v for v in values]


# endregion
