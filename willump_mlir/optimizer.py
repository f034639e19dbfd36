"""``wm.optimize``: profile the feature groups, choose and certify a cascade, compile it.

The steps, each on the IR of the traced pipeline:

1. ``infer-feature-groups`` finds the groups feeding the model.
2. Profiling: each group's own ops are compiled alone and timed on a sample of rows; each
   group's permutation importance is measured on a held-out split (several full shuffles).
3. Candidate cheap subsets come from a cost / importance knapsack over a range of budgets.
   For each, a clone of the user's estimator is trained on the subset's columns, and the
   confidence threshold is searched over every confidence value of the *choose* split.
4. The cheapest candidate (expected cost per row) is certified on the *certify* split, which
   the choice never saw: a one-sided Clopper-Pearson bound on the rate of rows the cascade
   gets wrong where the full model is right must stay within ``max_accuracy_loss``.
5. ``insert-cascade``, ``schedule-lazy`` and ``lower-cascade`` build the two native programs.
If no candidate passes, the result is the exact compiled pipeline, and the report says why.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier
from tqdm.auto import tqdm
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    f32,
    f64,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import VerifyException

from willump_mlir.api import compile_checked, compile_traced, pass_options
from willump_mlir.blobs import BlobStore
from willump_mlir.compiler import context
from willump_mlir.dialects.pipeline import (
    PredictOp,
    PythonCallOp,
    SelectColumnsOp,
    TakeColumnOp,
    TransformOp,
    batch_of,
    is_sparse,
)
from willump_mlir.frontend import trace_to_module
from willump_mlir.frontend.params import lower_estimator, sparse_kind
from willump_mlir.frontend.spec import FrontendResult, Unsupported
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass
from willump_mlir.passes.column_flow import ColumnNarrower, erase_dead_ops
from willump_mlir.passes.fold_scalers import FOLDED, FoldScalersPass, fold, kept_reason
from willump_mlir.passes.infer_feature_groups import (
    GROUP,
    GROUPS,
    REFUSED,
    InferFeatureGroupsPass,
    model_op,
    twins,
)
from willump_mlir.passes.insert_cascade import PLAN, InsertCascadePass, group_columns
from willump_mlir.passes.lower_cascade import REST_SUFFIX, SETTLE, LowerCascadePass
from willump_mlir.passes.schedule_lazy import ScheduleLazyPass
from willump_mlir.pipelines import CompiledPipeline, OptimizedPipeline
from willump_mlir.runtime.compiled import take_data_rows
from willump_mlir.runtime.marshal import InputError
from willump_mlir.runtime.optimized import (
    Candidate,
    GroupProfile,
    Report,
    not_by_rows,
    result_rows,
    time_call,
)
from willump_mlir.selfcheck import difference
from willump_mlir.stats.bounds import binomial_upper_bound
from willump_mlir.stats.confidence import METRICS, predicted_class
from willump_mlir.stats.confidence import confidence as confidence_of
from willump_mlir.stats.importance import permutation_importance
from willump_mlir.stats.knapsack import candidate_subsets
from willump_mlir.stats.thresholds import certify, choose_threshold
from willump_mlir.stats.topk import CandidateCurve, fit_candidate_curve

MIN_SPLIT_ROWS = 100
"""Fewest rows in each split (cheap models, choice, certification)."""

CHOOSE_MARGIN = 0.7
"""The threshold is chosen for ``CHOOSE_MARGIN * max_accuracy_loss`` so that a choice that
sits exactly on the limit of one split does not fail on the other by sampling noise."""

MAX_CANDIDATES = 6
PROFILE_ROWS = 2_000
CURVE_ROWS = 20_000


# region Module surgery


def function_of(module: ModuleOp) -> FuncOp:
    function = module.body.block.first_op
    assert isinstance(function, FuncOp)
    return function


def returning(module: ModuleOp, values: Callable[[FuncOp], list[SSAValue]]) -> ModuleOp:
    """A copy of ``module`` whose function returns ``values(function)`` instead, with the ops
    they do not need removed."""
    module = module.clone()
    function = function_of(module)
    results = values(function)
    ret = function.body.block.last_op
    assert isinstance(ret, ReturnOp)
    ret.operands = results
    function.function_type = function.function_type.from_lists(
        function.function_type.inputs.data, [v.type for v in results]
    )
    for op in function.walk():
        op.attributes.pop(GROUP, None)
        op.attributes.pop(GROUPS, None)
    erase_dead_ops(function.body.block, keep_checks=False)  # profiles: each group's own cost
    return module


def computed_on_output(model: PredictOp, wrapping: set[str]) -> str | None:
    """The first op between ``model`` (or another call of it, ``twins``) and the return
    that computes on the model's output (``p > 0.15``, ``p * w``), or None if the function
    returns the output, columns of it (``[:, 1]``), or them in a container (``wrapping``:
    the Python calls that only put one around values, such as class labels from
    ``classes_``, a Series' index, a DataFrame of columns or a returned tuple). A cascade's
    loss bound is certified for the class the model predicts; such an op may turn a
    settled row's other probability into another answer (a threshold of 0.15 on
    probabilities both models put on the same side of 0.5)."""
    pending = [r for call in twins(model) for r in call.results]
    while pending:
        for use in pending.pop().uses:
            op = use.operation
            wraps = isinstance(op, PythonCallOp) and op.callee.data in wrapping
            if isinstance(op, TakeColumnOp | SelectColumnsOp) or wraps:
                pending += op.results
            elif not isinstance(op, ReturnOp):
                function = getattr(op, "function", None)
                return op.name + (f" {function.data!r}" if function is not None else "")
    return None


def group_roots(function: FuncOp, index: int) -> list[SSAValue]:
    """The values group ``index``'s own ops hand to the rest of the pipeline."""
    own = [op for op in function.walk() if _group(op) == index]
    roots: list[SSAValue] = []
    for op in own:
        for result in op.results:
            if any(_group(use.operation) != index for use in result.uses):
                roots.append(result)
    return roots


def _group(op: Operation) -> int | None:
    attr = op.attributes.get(GROUP)
    return None if attr is None else attr.value.data  # type: ignore[attr-defined]


# endregion
# region Running


def seconds_per_row(run: Callable[[], Any], rows: int) -> float:
    """Median wall time of ``run()`` per row."""
    return time_call(run) / rows


def _concat(a: Any, b: Any) -> Any:
    """Two batches of one data argument, one after the other, in the first one's type."""
    import pandas as pd

    if isinstance(a, pd.DataFrame | pd.Series):
        return pd.concat([a, b], ignore_index=True)
    if isinstance(a, np.ndarray):
        return np.concatenate([a, np.asarray(b)])
    return list(a) + list(b)


def python_cost_ratio(run: Callable[[], Any], reference: float) -> float:
    """``run``'s median time over ``reference`` seconds, at most 1."""
    return min(time_call(run, repeats=3) / reference, 1.0) if reference > 0 else 1.0


def rows_of(x: Any, rows: np.ndarray) -> Any:
    return sp.csr_matrix(x)[rows] if sp.issparse(x) else np.asarray(x)[rows]


def columns_of(x: Any, columns: Sequence[int]) -> Any:
    if sp.issparse(x):
        return sp.csr_matrix(x)[:, list(columns)]
    return np.asarray(x)[:, list(columns)]


# endregion


@dataclass(frozen=True)
class Options:
    """What the user asked of ``optimize``."""

    max_loss: float
    confidence: float
    metric: str
    topk_precision: float
    min_speedup: float


@dataclass
class CheapModel:
    """A fitted clone of the model on some feature groups, and what it cost."""

    groups: tuple[int, ...]
    params: str  # what the clone changes, e.g. "n_estimators=50"
    fitted: object
    scale: object | None
    choose_output: np.ndarray
    cost: float


@dataclass
class Splits:
    fit: np.ndarray
    choose: np.ndarray
    certify: np.ndarray


def check_options(fn: Callable[..., Any], options: Options) -> None:
    if not callable(fn):
        raise TypeError(f"fn must be the pipeline function, got {type(fn).__name__}")
    if not 0 < options.max_loss < 1:
        raise InputError(f"max_accuracy_loss must lie in (0, 1), got {options.max_loss}")
    if not 0 < options.confidence < 1:
        raise InputError(f"confidence must lie in (0, 1), got {options.confidence}")
    if options.metric not in METRICS:
        raise InputError(
            f"metric must be one of {', '.join(METRICS)}, got {options.metric!r}"
        )
    if not 0 < options.topk_precision <= 1:
        raise InputError(f"topk_precision must lie in (0, 1], got {options.topk_precision}")
    if not options.min_speedup >= 0:
        raise InputError(f"min_speedup must be a number >= 0, got {options.min_speedup}")


def check_rows(args: Any, y: Any, names: tuple[str, str]) -> np.ndarray:
    """``y`` as a 1-D array, after checking ``args`` is an argument tuple; ``names`` are the
    two parameters' names for the messages."""
    if not isinstance(args, tuple):
        raise TypeError(
            f"{names[0]} must be a tuple of the function's arguments (like wm.compile's "
            f"example), got {type(args).__name__}"
        )
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise InputError(f"{names[1]} must be one label per row (1-D), got shape {labels.shape}")
    if len(np.unique(labels)) < 2:
        raise InputError(f"{names[1]} has a single class: there is nothing to classify")
    return labels


def optimize(
    fn: Callable[..., Any],
    train: tuple[Any, ...],
    y: Any,
    max_accuracy_loss: float = 0.001,
    confidence: float = 0.95,
    metric: str = "top_probability",
    topk_precision: float = 0.95,
    validation: tuple[Any, ...] | None = None,
    validation_y: Any = None,
    min_speedup: float = 1.0,
    seed: int = 0,
    progress: bool = True,
    *,
    tree_layout: str | ChooseTreeLayoutPass = "auto",
    fold_scalers: bool = True,
) -> OptimizedPipeline:
    """Compile ``fn`` with a cascade (and top-K) whose accuracy loss is certified.

    ``train`` holds the function's arguments on labelled rows (``y``), like the rows the
    model was fitted on: the cheap models are clones of the model trained on them. With
    ``validation`` (and ``validation_y``), rows the model was not fitted on, the cheap models
    train on all of ``train`` and the validation rows are halved: one half chooses the cascade
    and the other, unseen by the choice, certifies that the accuracy loss is at most
    ``max_accuracy_loss`` with probability ``confidence``. Without it, ``train`` is split in
    half (cheap models), a quarter (choose) and a quarter (certify). The guarantee holds for
    rows exchangeable with the certify rows. If no cascade can be certified, the exact
    compiled pipeline is returned, and ``report()`` says why; so it is when the cascade,
    timed on the certify rows, is not at least ``min_speedup`` times faster than the exact
    pipeline (two programs per call cost more than one on a cheap pipeline).

    ``tree_layout`` and ``fold_scalers`` are ``wm.compile``'s, for every program of the
    cascade.
    """
    passes = pass_options(tree_layout, fold_scalers)
    options = Options(max_accuracy_loss, confidence, metric, topk_precision, min_speedup)
    check_options(fn, options)
    labels = check_rows(train, y, ("train", "y"))
    if (validation is None) != (validation_y is None):
        raise InputError("validation and validation_y come together: give both or neither")
    steps = tqdm(total=6, desc="willump-mlir optimize", disable=not progress, leave=False)
    steps.set_postfix_str("compiling the exact pipeline")
    exact = compile_checked(fn, train, functools.partial(trace_to_module, fn, train),
                            passes=passes)  # fmt: skip
    traced = exact.traced
    rows = exact.bind(train)[1]
    if len(labels) != rows:
        raise InputError(f"y has {len(labels)} labels but train has {rows} rows")
    if validation is not None:
        held_out = check_rows(validation, validation_y, ("validation", "validation_y"))
        validation_rows = exact.bind(validation)[1]
        if len(held_out) != validation_rows:
            raise InputError(f"validation_y has {len(held_out)} labels but validation has "
                             f"{validation_rows} rows")  # fmt: skip
        train = tuple(
            a if spec.kind == "bound" else _concat(a, b)
            for spec, a, b in zip(traced.arguments, train, validation, strict=True)
        )
        labels = np.concatenate([labels, held_out])
        extra = rows + np.random.default_rng(seed).permutation(len(held_out))
        half = len(held_out) // 2
        splits = Splits(np.arange(rows), extra[:half], extra[half:])
    else:
        order = np.random.default_rng(seed).permutation(rows)
        splits = Splits(
            order[: rows // 2], order[rows // 2 : 3 * rows // 4], order[3 * rows // 4 :]
        )
    if min(len(splits.fit), len(splits.choose), len(splits.certify)) < MIN_SPLIT_ROWS:
        raise InputError(
            f"too few rows: optimize needs at least {MIN_SPLIT_ROWS} rows in each of its "
            f"splits (train {len(splits.fit)}, choose {len(splits.choose)}, certify "
            f"{len(splits.certify)}); give more rows in train or validation"
        )
    steps.update()
    search = Search(fn, traced, exact, train, labels, splits, seed, steps)
    search.report.validation = validation is not None
    try:
        return search.run(options)
    finally:
        steps.close()


class Search:
    """One optimization: the exact pipeline, its groups and profiles, the cheap models."""

    def __init__(
        self,
        fn: Callable[..., Any],
        traced: FrontendResult,
        exact: CompiledPipeline,
        train: tuple[Any, ...],
        labels: np.ndarray,
        splits: Splits,
        seed: int,
        steps: Any,
    ):
        self.fn, self.traced, self.exact, self.train = fn, traced, exact, train
        self.labels, self.splits, self.seed, self.steps = labels, splits, seed, steps
        self.report = Report(groups=[], candidates=[], reason="")
        self.options = Options(0.0, 0.0, "", 0.0, 0.0)  # set by run()
        self.blobs = traced.blobs | {}  # with the thresholds of a scaler folded by run()

    def step(self, what: str) -> None:
        self.steps.update()
        self.steps.set_postfix_str(what)

    def exact_only(self, reason: str) -> OptimizedPipeline:
        self.report.reason = reason
        return OptimizedPipeline(
            self.exact, None, None, None, None, self.report, None,
            self.options.confidence,
        )

    def run(self, options: Options) -> OptimizedPipeline:
        self.options = options
        confidence, max_loss = options.confidence, options.max_loss
        self.module = self.traced.module.clone()
        # The groups are the columns of what the model reads: the scaler's input where the
        # scaler folds into a tree model (the compiled program folds it the same way).
        self.exact.staged.configured(FoldScalersPass).apply(context(self.blobs), self.module)
        InferFeatureGroupsPass().apply(context(), self.module)
        self.function = function_of(self.module)
        if REFUSED in self.function.attributes:
            refused = self.function.attributes[REFUSED].data  # type: ignore[attr-defined]
            return self.exact_only(f"no cascade: {refused}")
        unmerged = self.not_by_rows()
        if unmerged is not None:
            return self.exact_only(f"no cascade: {unmerged}")
        depends = self.batch_dependence()
        if depends is not None:
            return self.exact_only(f"no cascade: {depends}")
        model = model_op(self.function)
        original = model_op(function_of(self.traced.module))
        assert isinstance(model, PredictOp) and isinstance(original, PredictOp)
        self.model = model
        self.est = self.traced.models[original]
        # the scaler folded into the model: a cheap model gets one of its own, fitted anew
        folded = FOLDED in model.attributes
        self.prescale = self.traced.models[original.input.owner] if folded else None
        try:
            clone(self.est)
        except Exception as error:  # sklearn raises TypeError / RuntimeError
            raise InputError(
                f"the model {type(self.est).__name__} cannot be cloned: {error}"
            ) from error
        self.classifier = is_classifier(self.est)
        if self.classifier and not hasattr(self.est, "predict_proba"):
            return self.exact_only(
                f"no cascade: {type(self.est).__name__} has no predict_proba, so no row's "
                "confidence can be measured"
            )
        wrapping = {n for n, c in self.traced.python_calls.items() if c.wraps or c.packs}
        after = computed_on_output(model, wrapping) if self.classifier else None
        if after is not None:
            return self.exact_only(
                f"no cascade: the function computes on the model's output ({after}), and a "
                "cascade's loss bound is certified for the class the model predicts, not for "
                "what the function makes of its output"
            )
        if self.classifier:
            self.classes = np.asarray(self.est.classes_)  # type: ignore[attr-defined]
            self.y = np.searchsorted(self.classes, self.labels)
            known = self.classes[np.clip(self.y, 0, len(self.classes) - 1)] == self.labels
            if not np.all(known):
                raise InputError("y has labels the model was not fitted on")
        else:
            self.y = self.labels.astype(np.float64)
        smallest = binomial_upper_bound(0, len(self.splits.certify), confidence)
        if self.classifier and smallest > max_loss:
            return self.exact_only(
                f"no cascade: with {len(self.splits.certify)} certify rows the loss bound at "
                f"confidence {confidence:g} cannot go below {smallest:.4g} (even with no "
                f"harmful row), above max_accuracy_loss {max_loss:g}; give more validation rows"
            )
        self.step("computing features")
        self.features()
        self.step("profiling feature groups")
        self.profile()
        self.step("training cheap models")
        if not self.classifier:
            return self.top_k_only()
        return self.cascade()

    def not_by_rows(self) -> str | None:
        """Why the function's result is not one row per input row in every part, which a
        cascade merges row by row, if it is not: a DataFrame, tuple, list or dict is
        checked on two rows and on three (a batch tensor always is)."""
        (returned,) = self.function.function_type.outputs.data
        if isinstance(returned, TensorType):
            return None
        for count in (2, 3):
            rows = self.splits.certify[:count]
            found = not_by_rows(self.exact(*take_data_rows(self.traced.arguments, self.train,
                                                           rows)), count)  # fmt: skip
            if found is not None:
                return (f"the function returns {found} on {count} rows, not one row per "
                        "input row, which a cascade cannot merge row by row")  # fmt: skip
        return None

    def batch_dependence(self) -> str | None:
        """Why a row's result depends on the other rows of its batch, if it does: a Python
        step of the user's code (``s.rank()``, ``s - s.quantile(0.5)``) computed on the
        certify rows alone, or on one of them alone, gives them other results than on all
        of ``train``; a cascade computes the full pipeline on some rows only. None where it
        does not, or where no Python step runs the user's code."""
        steps = self.traced.python_fallbacks
        if not steps:
            return None
        whole = self.exact(*self.train)
        certify = self.splits.certify
        for rows in (certify, *(certify[i : i + 1] for i in range(3))):
            alone = self.exact(*take_data_rows(self.traced.arguments, self.train, rows))
            if difference(result_rows(whole, rows), alone) is not None:
                break
        else:
            return None
        sources = "; ".join(f"`{call.source}`" for call in steps.values())
        return ("a row's result depends on the other rows of its batch (through the Python "
                f"step(s) {sources}), and a cascade computes features on some rows only")

    # region Features and profiles

    def features(self) -> None:
        """The model's input on every row, from the compiled pipeline itself."""
        program = self.compile(
            returning(self.module, lambda f: [model_op(f).input]),  # type: ignore[union-attr]
            returns_sparse=is_sparse(self.model.input.type),
        )
        (self.x_all,), handed_back = program.run(self.train)
        if len(handed_back):  # rows whose features only Python computes exactly: left out
            keep = np.setdiff1d
            self.splits = Splits(
                keep(self.splits.fit, handed_back), keep(self.splits.choose, handed_back),
                keep(self.splits.certify, handed_back),
            )  # fmt: skip
        self.full_out = self.predict(self.est, self.prescale, self.x_all)
        if self.classifier:
            self.full_out = predicted_class(self.full_out)

    def predict(self, est: object, prescale: object | None, x: Any) -> np.ndarray:
        data = x if prescale is None else prescale.transform(x)  # type: ignore[attr-defined]
        if self.classifier:
            return np.asarray(est.predict_proba(data), dtype=np.float64)  # type: ignore
        return np.asarray(est.predict(data), dtype=np.float64)  # type: ignore[attr-defined]

    def compile(
        self,
        module: ModuleOp,
        returns_sparse: bool = False,
        extra: dict[str, np.ndarray] | None = None,
    ) -> CompiledPipeline:
        """``module`` compiled with the pipeline's arguments and blobs (plus ``extra``)."""
        traced = replace(
            self.traced, module=module, returns_sparse=returns_sparse,
            blobs=self.blobs | (extra or {}),
        )  # fmt: skip
        return compile_traced(self.fn, traced, passes=self.exact.staged.passes)

    def profile(self) -> None:
        """Each group's cost (its compiled ops, timed) and permutation importance."""
        entries = self.model.attributes[GROUPS].data  # type: ignore[attr-defined]
        names = [e.data["name"].data for e in entries]
        self.columns = [group_columns(self.model, [g]) for g in range(len(names))]
        sample = self.splits.choose[:PROFILE_ROWS]
        self.sample_args = take_data_rows(self.traced.arguments, self.train, sample)
        costs = []
        for index in range(len(names)):
            if not group_roots(self.function, index):
                costs.append(0.0)  # input columns read as they are
                continue
            alone = self.compile(
                returning(self.module, lambda f, i=index: group_roots(f, i))
            )
            costs.append(seconds_per_row(lambda c=alone: c.run(self.sample_args), len(sample)))
        self.costs = costs
        self.full_cost = seconds_per_row(lambda: self.exact(*self.sample_args), len(sample))
        self.x_choose = rows_of(self.x_all, self.splits.choose)
        y_choose = self.y[self.splits.choose]

        def score(x: Any) -> float:
            out = self.predict(self.est, self.prescale, x)
            if self.classifier:
                return float(np.mean(predicted_class(out) == y_choose))
            return -float(np.mean((out - y_choose) ** 2))

        importances = permutation_importance(
            score, self.x_choose, [np.asarray(c) for c in self.columns], repeats=5,
            seed=self.seed,
        )  # fmt: skip
        self.report.groups = [
            GroupProfile(name, cost, imp.mean, imp.std, len(cols))
            for name, cost, imp, cols in zip(
                names, costs, importances, self.columns, strict=True
            )
        ]
        self.report.full_cost = self.full_cost
        # The model's own cost: the compiled pipeline's less its groups'; a cheap model's
        # is that scaled by how much faster its Python predict is than the full model's.
        self.model_cost = max(self.full_cost - sum(costs), 0.0)
        self.full_python = time_call(
            lambda: self.predict(self.est, self.prescale, self.x_choose), repeats=3
        )

    # endregion
    # region Cheap models

    def cheap_models(self) -> list[CheapModel]:
        """Per candidate: the groups (knapsack subsets over the range of budgets, at most
        ``MAX_CANDIDATES`` of them, spread over it), the fitted clone (and its scaler), its
        output on the choose rows and its estimated cost per row. An ensemble is also cloned
        with a quarter of its estimators, on every subset and on all the groups."""
        importances = [g.importance for g in self.report.groups]
        subsets = candidate_subsets(self.costs, importances)
        if len(subsets) > MAX_CANDIDATES:
            spread = np.linspace(0, len(subsets) - 1, MAX_CANDIDATES).round().astype(int)
            subsets = [subsets[i] for i in sorted(set(spread))]
        variants: list[dict[str, Any]] = [{}]
        estimators = getattr(self.est, "n_estimators", None)
        if isinstance(estimators, int) and estimators >= 40:
            variants.append({"n_estimators": estimators // 4})
            subsets.append(tuple(range(len(self.costs))))
        found = []
        for chosen, params in [(c, p) for c in subsets for p in variants]:
            if len(chosen) == len(self.costs) and not params:
                continue  # that is the full model
            cols = self.cheap_columns(chosen)
            x_fit = columns_of(rows_of(self.x_all, self.splits.fit), cols)
            y_fit = self.labels[self.splits.fit]
            scale = None if self.prescale is None else clone(self.prescale)
            if scale is not None:
                x_fit = scale.fit(x_fit).transform(x_fit)  # type: ignore[attr-defined]
            fitted = clone(self.est).set_params(**params).fit(x_fit, y_fit)  # type: ignore
            if self.classifier and list(fitted.classes_) != list(self.classes):
                continue  # the fit rows lacked a class
            x_cheap = columns_of(self.x_choose, cols)
            out = self.predict(fitted, scale, x_cheap)
            cost = sum(self.costs[g] for g in chosen) + self.model_cost * python_cost_ratio(
                lambda f=fitted, c=scale, x=x_cheap: self.predict(f, c, x), self.full_python
            )
            label = ", ".join(f"{k}={v}" for k, v in params.items())
            found.append(CheapModel(chosen, label, fitted, scale, out, cost))
        return found

    def cheap_columns(self, chosen: tuple[int, ...]) -> list[int]:
        return sorted(c for g in chosen for c in self.columns[g])

    def cheap_program(
        self, chosen: tuple[int, ...], fitted: object, scale: object | None, plan: dict[str, Any]
    ) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        """The pipeline module with the cheap model and ``cascade.plan`` attached, after
        ``insert-cascade``; and the cheap model's blobs."""
        blobs = BlobStore()
        module = attach_plan(
            self.module, fitted, scale, self.cheap_columns(chosen), chosen, plan, blobs,
            self.report.groups, self.classifier,
        )  # fmt: skip
        InsertCascadePass().apply(context(), module)
        return module, blobs

    # endregion
    # region Cascade

    def cascade(self) -> OptimizedPipeline:
        max_loss, confidence = self.options.max_loss, self.options.confidence
        metric = self.options.metric
        choose, cert = self.splits.choose, self.splits.certify
        models = self.cheap_models()
        for cheap_model in models:
            cheap = cheap_model.choose_output
            choice = choose_threshold(
                confidence_of(cheap, metric), predicted_class(cheap), self.full_out[choose],
                self.y[choose], CHOOSE_MARGIN * max_loss, confidence,
            )  # fmt: skip
            settled = 0.0 if choice is None else choice.settled_fraction
            self.report.candidates.append(
                Candidate(
                    cheap_model.groups, cheap_model.cost,
                    None if choice is None else choice.threshold, settled,
                    cheap_model.cost + (1 - settled) * self.full_cost,
                    float(np.mean(predicted_class(cheap) == self.y[choose])), cheap_model.params,
                )
            )  # fmt: skip
        viable = [
            (c, m) for c, m in zip(self.report.candidates, models, strict=True)
            if c.threshold is not None and c.expected_cost < self.full_cost
        ]  # fmt: skip
        if not viable:
            return self.exact_only(
                "no cascade: no cheap model settles rows within the loss bound at a lower "
                "expected cost than the full pipeline"
            )
        best, chosen = min(viable, key=lambda pair: pair[0].expected_cost)
        assert best.threshold is not None
        self.report.chosen = best
        fitted, scale = chosen.fitted, chosen.scale

        self.step("certifying")  # on rows the choice never saw
        cheap = self.predict(
            fitted, scale, columns_of(rows_of(self.x_all, cert), self.cheap_columns(best.groups))
        )
        certified, passed = certify(
            best.threshold, confidence_of(cheap, metric), predicted_class(cheap),
            self.full_out[cert], self.y[cert], max_loss, confidence,
        )  # fmt: skip
        self.report.certified = certified
        if not passed:
            return self.exact_only(
                f"no cascade: the chosen cascade's loss bound on the certify split is "
                f"{certified.bound:.4g} > max_accuracy_loss {max_loss:g}"
            )

        self.step("compiling the cascade")
        plan = {"metric": metric, "threshold": best.threshold}
        name = self.function.sym_name.data
        try:
            module, blobs = self.cheap_program(best.groups, fitted, scale, plan)
            ScheduleLazyPass().apply(context(), module)
            module.verify()
            split = module.clone()
            LowerCascadePass().apply(context(), split)
            approx = self.compile(only(split, name), extra=blobs)
            rest = self.compile(only(split, name + REST_SUFFIX), extra=blobs)
        except (Unsupported, VerifyException, ValueError) as error:
            return self.exact_only(f"no cascade: the cascade does not compile: {error}")
        settle = settle_of(split, name)
        curve = self.curve(approx) if self.returns_scores() else None
        fast = OptimizedPipeline(
            self.exact, approx, rest, str(module), settle, self.report, curve,
            confidence,
        )  # fmt: skip
        certify_args = take_data_rows(self.traced.arguments, self.train, cert)
        self.report.speedup = time_call(lambda: self.exact(*certify_args)) / time_call(
            lambda: fast(*certify_args)
        )
        self.report.calls.update(rows=0, settled=0)
        min_speedup = self.options.min_speedup
        if self.report.speedup < min_speedup:
            return self.exact_only(
                f"no cascade: the certified cascade measured {self.report.speedup:.2f}x the "
                f"exact pipeline's speed on the certify rows, below min_speedup {min_speedup:g}"
            )
        return fast

    def returns_scores(self) -> bool:
        """Whether the function returns one float score per row (what top-K ranks)."""
        (result,) = self.function.function_type.outputs.data
        return isinstance(result, TensorType) and result.get_num_dims() == 1 and (
            result.element_type in (f64, f32)
        )

    def curve(self, cheap: CompiledPipeline) -> CandidateCurve:
        """The top-K candidate curve of the cheap program ``cheap``, fitted on certify rows
        (which chose nothing), at most ``CURVE_ROWS`` of them: the more rows, the further
        into the tail (small K / rows) the curve is measured rather than extrapolated."""
        rows = self.splits.certify[:CURVE_ROWS]
        args = take_data_rows(self.traced.arguments, self.train, rows)
        cheap_scores = np.asarray(cheap.run(args)[0][0], dtype=np.float64)
        full_scores = np.asarray(self.exact(*args), dtype=np.float64)
        return fit_candidate_curve(
            cheap_scores, full_scores, precision=self.options.topk_precision,
            confidence=self.options.confidence,
            seed=self.seed,
        )  # fmt: skip

    # endregion
    # region Top-K only (regression)

    def top_k_only(self) -> OptimizedPipeline:
        """A cheap scorer for top-K: the candidate whose top-K query at K = 1% of the rows
        is cheapest (cheap program on every row + full program on the candidates)."""
        if not self.returns_scores():
            return self.exact_only("no top-K: the function does not return one score per row")
        full = self.full_out[self.splits.choose]
        best: tuple[float, CheapModel] | None = None
        for cheap_model in self.cheap_models():
            curve = fit_candidate_curve(
                cheap_model.choose_output, full, precision=self.options.topk_precision,
                confidence=self.options.confidence,
                seed=self.seed,
            )  # fmt: skip
            n = len(full)
            share = curve.candidates(max(1, n // 100), n) / n
            expected = cheap_model.cost + share * self.full_cost
            self.report.candidates.append(
                Candidate(cheap_model.groups, cheap_model.cost, None, 0.0, expected,
                          float("nan"), cheap_model.params)  # fmt: skip
            )
            if expected < self.full_cost and (best is None or expected < best[0]):
                best = (expected, cheap_model)
        self.report.reason = (
            f"no cascade: {type(self.est).__name__} is a regressor; a cascade would need "
            "certified prediction intervals. Top-K gets a cheap scorer."
        )
        if best is None:
            return self.exact_only(self.report.reason + " No cheap subset makes top-K cheaper.")
        chosen = best[1]
        self.report.chosen = next(
            c for c in self.report.candidates
            if (c.groups, c.model_params) == (chosen.groups, chosen.params)
        )  # fmt: skip
        self.step("compiling the cheap scorer")
        try:
            module, blobs = self.cheap_program(chosen.groups, chosen.fitted, chosen.scale, {})
            scorer = self.compile(only(module, self.function.sym_name.data), extra=blobs)
        except (Unsupported, VerifyException, ValueError) as error:
            return self.exact_only(f"{self.report.reason} The cheap scorer does not compile: "
                                   f"{error}")  # fmt: skip
        # The scorer keeps the full path's statements that check their input (what they
        # read too), which the estimate left out: measured, it must still pay off.
        rows = len(self.splits.choose[:PROFILE_ROWS])
        measured = seconds_per_row(lambda: scorer.run(self.sample_args), rows)
        if measured + best[0] - chosen.cost >= self.full_cost:
            return self.exact_only(
                f"{self.report.reason} The cheap scorer, with the statements of the full "
                f"path that check their input, measured {measured * 1e6:.3g} µs a row: top-K "
                "would not be cheaper than the exact pipeline"
            )
        curve = self.curve(scorer)
        return OptimizedPipeline(
            self.exact, scorer, None, None, None, self.report, curve,
            self.options.confidence,
        )

    # endregion


def settle_of(module: ModuleOp, name: str) -> tuple[str, float]:
    """The metric and threshold ``lower-cascade`` recorded on function ``name``."""
    function = SymbolTable.lookup_symbol(module, name)
    assert isinstance(function, FuncOp)
    settle = function.attributes[SETTLE]
    assert isinstance(settle, DictionaryAttr)
    metric, threshold = settle.data["metric"], settle.data["threshold"]
    assert isinstance(metric, StringAttr) and isinstance(threshold, FloatAttr)
    return metric.data, threshold.value.data


def only(module: ModuleOp, name: str) -> ModuleOp:
    """A module holding just the function ``name`` of ``module``."""
    for op in module.ops:
        if isinstance(op, FuncOp) and op.sym_name.data == name:
            copy = op.clone()
            copy.attributes.pop(SETTLE, None)
            for inner in copy.walk():
                inner.attributes.pop(GROUP, None)
                inner.attributes.pop(GROUPS, None)
            return ModuleOp([copy])
    raise KeyError(name)


def attach_plan(
    module: ModuleOp,
    fitted: object,
    cheap_scale: object | None,
    cols: list[int],
    chosen: tuple[int, ...],
    plan: dict[str, Any],
    blobs: BlobStore,
    groups: list[GroupProfile],
    classifier: bool,
) -> ModuleOp:
    """A copy of ``module`` whose model op carries the profiles and ``cascade.plan`` (with
    ``plan``'s metric and threshold, if any), and the cheap model as
    ``func.func private @<f>_cheap_model``."""
    module = module.clone()
    function = function_of(module)
    model = model_op(function)
    assert isinstance(model, PredictOp)
    probe = module.clone()
    probe_model = model_op(function_of(probe))
    assert isinstance(probe_model, PredictOp)
    narrowed = ColumnNarrower(probe_model).narrow(probe_model.input, cols).type
    if is_sparse(narrowed):
        kinds = [sparse_kind(narrowed.get_element_type())] * len(cols)  # type: ignore
    else:
        kinds = ["f64"] * len(cols)
    method = "predict_proba" if classifier else model.method.data
    lowered = lower_estimator(fitted, method, kinds, blobs)
    if model.method.data == method:
        result_type = model.result.type
    else:
        result_type = batch_of(len(fitted.classes_))  # type: ignore[attr-defined]
    symbol = f"{function.sym_name.data}_cheap_model"
    block = Block(arg_types=[narrowed])
    predict = PredictOp(
        lowered.estimator, lowered.method or method, block.args[0], lowered.params, result_type
    )
    block.add_ops([predict, ReturnOp(predict.result)])
    if cheap_scale is not None:  # the cheap model's own scaler, folded into it
        scaler = lower_estimator(cheap_scale, "transform", kinds, blobs)
        transform = TransformOp(scaler.estimator, block.args[0], scaler.params, narrowed)
        block.insert_op_before(transform, predict)
        predict.operands = [transform.result]
        if fold(predict, blobs) is None:
            why = kept_reason(predict, blobs)
            raise Unsupported(f"the cheap model's {scaler.estimator} is not folded: {why}")
    cheap_model = FuncOp(symbol, ([narrowed], [result_type]), Region(block), visibility="private")
    module.body.block.add_op(cheap_model)
    entries = []
    for entry, profile in zip(model.attributes[GROUPS].data, groups, strict=True):  # type: ignore
        data = dict(entry.data)
        data["cost"] = FloatAttr(profile.cost, f64)
        data["importance"] = FloatAttr(profile.importance, f64)
        entries.append(DictionaryAttr(data))
    model.attributes[GROUPS] = ArrayAttr(entries)
    decision: dict[str, Attribute] = {
        "cheap": DenseArrayBase.from_list(i64, list(chosen)),
        "model": SymbolRefAttr(symbol),
    }
    if plan:
        decision["metric"] = StringAttr(plan["metric"])
        decision["threshold"] = FloatAttr(plan["threshold"], f64)
    model.attributes[PLAN] = DictionaryAttr(decision)
    return module
