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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from tqdm.auto import tqdm
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    f64,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.transforms.dead_code_elimination import dce

from willump_mlir.api import compile_traced
from willump_mlir.compiler import context
from willump_mlir.dialects.pipeline import PredictOp, is_sparse
from willump_mlir.frontend import trace_to_module
from willump_mlir.frontend.params import lower_estimator, sparse_kind
from willump_mlir.frontend.spec import FrontendResult
from willump_mlir.frontend.tracer import Blobs
from willump_mlir.passes.column_flow import ColumnNarrower
from willump_mlir.passes.infer_feature_groups import (
    GROUP,
    GROUPS,
    REFUSED,
    InferFeatureGroupsPass,
    model_op,
)
from willump_mlir.passes.insert_cascade import PLAN, InsertCascadePass, group_columns
from willump_mlir.passes.lower_cascade import REST_SUFFIX, LowerCascadePass
from willump_mlir.passes.schedule_lazy import ScheduleLazyPass
from willump_mlir.runtime.compiled import CompiledPipeline, take_rows
from willump_mlir.runtime.marshal import InputError
from willump_mlir.runtime.optimized import (
    Candidate,
    GroupProfile,
    OptimizedPipeline,
    Report,
    time_call,
)
from willump_mlir.stats.confidence import confidence as confidence_of
from willump_mlir.stats.confidence import predicted_class
from willump_mlir.stats.importance import permutation_importance
from willump_mlir.stats.knapsack import candidate_subsets
from willump_mlir.stats.thresholds import certify, choose_threshold
from willump_mlir.stats.topk import fit_candidate_curve

MIN_ROWS = 300
"""Fewest training rows: each of the three splits needs enough rows to say anything."""

CHOOSE_MARGIN = 0.7
"""The threshold is chosen for ``CHOOSE_MARGIN * max_accuracy_loss`` so that a choice that
sits exactly on the limit of one split does not fail on the other by sampling noise."""

MAX_CANDIDATES = 6
PROFILE_ROWS = 2_000


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
    dce(module)
    return module


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


def data_positions(traced: FrontendResult) -> list[int]:
    return [i for i, a in enumerate(traced.arguments) if a.kind != "bound"]


def subset(args: tuple[Any, ...], positions: list[int], rows: np.ndarray) -> tuple[Any, ...]:
    return tuple(
        take_rows(a, rows) if i in positions else a for i, a in enumerate(args)
    )


def seconds_per_row(run: Callable[[], Any], rows: int) -> float:
    """Median wall time of ``run()`` per row."""
    return time_call(run) / rows


def proba_of(est: object, prescale: object | None, x: Any) -> np.ndarray:
    data = x if prescale is None else prescale.transform(x)  # type: ignore[attr-defined]
    return np.asarray(est.predict_proba(data), dtype=np.float64)  # type: ignore[attr-defined]


def _concat(a: Any, b: Any) -> Any:
    """Two batches of one data argument, one after the other, in the first one's type."""
    import pandas as pd

    if isinstance(a, pd.DataFrame | pd.Series):
        return pd.concat([a, b], ignore_index=True)
    if isinstance(a, np.ndarray):
        return np.concatenate([a, np.asarray(b)])
    return list(a) + list(b)


def rows_of(x: Any, rows: np.ndarray) -> Any:
    return sp.csr_matrix(x)[rows] if sp.issparse(x) else np.asarray(x)[rows]


def columns_of(x: Any, columns: Sequence[int]) -> Any:
    if sp.issparse(x):
        return sp.csr_matrix(x)[:, list(columns)]
    return np.asarray(x)[:, list(columns)]


# endregion


@dataclass
class Splits:
    fit: np.ndarray
    choose: np.ndarray
    certify: np.ndarray


def check_inputs(
    fn: Callable[..., Any], train: Any, y: Any, max_accuracy_loss: float, confidence: float
) -> np.ndarray:
    if not callable(fn):
        raise TypeError(f"fn must be the pipeline function, got {type(fn).__name__}")
    if not isinstance(train, tuple):
        raise TypeError(
            "train must be a tuple of the function's arguments (like wm.compile's example), "
            f"got {type(train).__name__}"
        )
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise InputError(f"y must be one label per row (1-D), got shape {labels.shape}")
    if not 0 < max_accuracy_loss < 1:
        raise InputError(f"max_accuracy_loss must lie in (0, 1), got {max_accuracy_loss}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}")
    if len(np.unique(labels)) < 2:
        raise InputError("y has a single class: there is nothing to classify")
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
    seed: int = 0,
    progress: bool = True,
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
    compiled pipeline is returned, and ``report()`` says why.
    """
    labels = check_inputs(fn, train, y, max_accuracy_loss, confidence)
    if (validation is None) != (validation_y is None):
        raise InputError("validation and validation_y come together: give both or neither")
    steps = tqdm(total=6, desc="willump-mlir optimize", disable=not progress, leave=False)
    steps.set_postfix_str("compiling the exact pipeline")
    traced = trace_to_module(fn, train)
    exact = compile_traced(fn, traced)
    positions = data_positions(traced)
    rows = exact.bind(train)[1]
    if len(labels) != rows:
        raise InputError(f"y has {len(labels)} labels but train has {rows} rows")
    if validation is not None:
        if not isinstance(validation, tuple):
            raise TypeError(f"validation must be a tuple of arguments like train, got "
                            f"{type(validation).__name__}")  # fmt: skip
        held_out = check_inputs(fn, validation, validation_y, max_accuracy_loss, confidence)
        if len(held_out) != exact.bind(validation)[1]:
            raise InputError(f"validation_y has {len(held_out)} labels but validation has "
                             f"{exact.bind(validation)[1]} rows")  # fmt: skip
        train = tuple(
            _concat(a, b) if i in positions else a
            for i, (a, b) in enumerate(zip(train, validation, strict=True))
        )
        labels = np.concatenate([labels, held_out])
        rng = np.random.default_rng(seed)
        extra = rows + rng.permutation(len(held_out))
        half = len(held_out) // 2
        splits = Splits(np.arange(rows), extra[:half], extra[half:])
        rows += len(held_out)
    else:
        order = np.random.default_rng(seed).permutation(rows)
        splits = Splits(
            order[: rows // 2], order[rows // 2 : 3 * rows // 4], order[3 * rows // 4 :]
        )
    if min(len(splits.fit), len(splits.choose), len(splits.certify)) < MIN_ROWS // 3:
        raise InputError(
            f"too few rows: optimize needs at least {MIN_ROWS // 3} rows in each of its "
            f"splits (train {len(splits.fit)}, choose {len(splits.choose)}, certify "
            f"{len(splits.certify)}); give more rows in train or validation"
        )
    steps.update()

    def exact_only(reason: str, report: Report | None = None) -> OptimizedPipeline:
        steps.close()
        report = report or Report(groups=[], candidates=[], reason=reason)
        report.reason = reason
        return OptimizedPipeline(fn, exact, None, None, None, None, report, None, confidence)

    module = traced.module.clone()
    InferFeatureGroupsPass().apply(context(), module)
    function = function_of(module)
    if REFUSED in function.attributes:
        return exact_only(f"no cascade: {function.attributes[REFUSED].data}")  # type: ignore
    model = model_op(function)
    original = model_op(function_of(traced.module))
    assert isinstance(model, PredictOp) and isinstance(original, PredictOp)
    est, prescale = traced.models[original]
    if not hasattr(est, "predict_proba"):
        return exact_only(
            f"no cascade: {type(est).__name__} has no predict_proba, so no row's confidence "
            "can be measured (regression cascades would need certified prediction intervals)"
        )
    try:
        clone(est)
    except Exception as error:  # sklearn raises TypeError / RuntimeError
        raise InputError(f"the model {type(est).__name__} cannot be cloned: {error}") from error

    # Features the model reads, from the compiled pipeline itself.
    steps.set_postfix_str("computing features")
    features = compile_traced(
        fn, replace(traced, module=returning(module, lambda f: [model_op(f).input]),  # type: ignore
                    returns_sparse=is_sparse(model.input.type)),  # fmt: skip
    )
    x_all = features.run(train)[0][0]
    full_proba = proba_of(est, prescale, x_all)
    full_labels = predicted_class(full_proba)
    classes = np.asarray(est.classes_)  # type: ignore[attr-defined]
    y_index = np.searchsorted(classes, labels)
    if np.any(classes[np.clip(y_index, 0, len(classes) - 1)] != labels):
        raise InputError("y has labels the model was not fitted on")
    steps.update()

    # Profiling: cost of each group's compiled code, importance by permutation.
    steps.set_postfix_str("profiling feature groups")
    entries = model.attributes[GROUPS].data  # type: ignore[attr-defined]
    names = [e.data["name"].data for e in entries]
    columns = [group_columns(model, [g]) for g in range(len(names))]
    sample = splits.choose[:PROFILE_ROWS]
    sample_args = subset(train, positions, sample)
    costs = []
    for index in range(len(names)):
        roots = group_roots(function, index)
        if not roots:
            costs.append(0.0)
            continue
        alone = compile_traced(
            fn, replace(traced, module=returning(  # type: ignore[arg-type]
                module, lambda f, i=index: group_roots(f, i)), returns_sparse=False),
        )  # fmt: skip
        costs.append(seconds_per_row(lambda c=alone: c.run(sample_args), len(sample)))
    full_cost = seconds_per_row(lambda: exact(*sample_args), len(sample))
    x_choose = rows_of(x_all, splits.choose)
    y_choose = y_index[splits.choose]

    def accuracy(x: Any) -> float:
        return float(np.mean(predicted_class(proba_of(est, prescale, x)) == y_choose))

    importances = permutation_importance(
        accuracy, x_choose, [np.asarray(c) for c in columns], repeats=5, seed=seed
    )
    groups = [
        GroupProfile(name, cost, imp.mean, imp.std, len(cols))
        for name, cost, imp, cols in zip(names, costs, importances, columns, strict=True)
    ]
    steps.update()

    # Candidates: train a cheap clone per knapsack subset, choose its threshold.
    steps.set_postfix_str("training cheap models")
    subsets = candidate_subsets(costs, [g.importance for g in groups])[:MAX_CANDIDATES]
    full_choose = full_labels[splits.choose]
    candidates: list[Candidate] = []
    trained: dict[tuple[int, ...], tuple[object, object | None]] = {}
    for chosen in subsets:
        cols = sorted(c for g in chosen for c in columns[g])
        cheap_scale = None if prescale is None else clone(prescale)
        x_fit = columns_of(rows_of(x_all, splits.fit), cols)
        if cheap_scale is not None:
            cheap_scale.fit(x_fit)  # type: ignore[attr-defined]
            fitted = clone(est).fit(cheap_scale.transform(x_fit), labels[splits.fit])  # type: ignore
        else:
            fitted = clone(est).fit(x_fit, labels[splits.fit])  # type: ignore[attr-defined]
        if list(np.asarray(fitted.classes_)) != list(classes):
            continue  # the fit split lacked a class
        trained[chosen] = (fitted, cheap_scale)
        cheap = proba_of(fitted, cheap_scale, columns_of(x_choose, cols))
        choice = choose_threshold(
            confidence_of(cheap, metric), predicted_class(cheap), full_choose, y_choose,
            CHOOSE_MARGIN * max_accuracy_loss, confidence,
        )  # fmt: skip
        cheap_cost = sum(costs[g] for g in chosen)
        settled = 0.0 if choice is None else choice.settled_fraction
        candidates.append(
            Candidate(
                chosen, cheap_cost, None if choice is None else choice.threshold, settled,
                cheap_cost + (1 - settled) * full_cost,
                float(np.mean(predicted_class(cheap) == y_choose)),
            )
        )  # fmt: skip
    steps.update()
    report = Report(groups=groups, candidates=candidates, reason="", full_cost=full_cost)
    viable = [c for c in candidates if c.threshold is not None and c.expected_cost < full_cost]
    if not viable:
        return exact_only(
            "no cascade: no cheap subset settles rows within the loss bound at a lower "
            "expected cost than the full pipeline",
            report,
        )
    best = min(viable, key=lambda c: c.expected_cost)
    report.chosen = best
    assert best.threshold is not None
    fitted, cheap_scale = trained[best.groups]
    cols = sorted(c for g in best.groups for c in columns[g])

    # Certification on rows the choice never saw.
    steps.set_postfix_str("certifying")
    cheap = proba_of(fitted, cheap_scale, columns_of(rows_of(x_all, splits.certify), cols))
    certified, passed = certify(
        best.threshold, confidence_of(cheap, metric), predicted_class(cheap),
        full_labels[splits.certify], y_index[splits.certify], max_accuracy_loss, confidence,
    )  # fmt: skip
    report.certified = certified
    steps.update()
    if not passed:
        return exact_only(
            f"no cascade: the chosen cascade's loss bound on the certify split is "
            f"{certified.bound:.4g} > max_accuracy_loss {max_accuracy_loss:g}",
            report,
        )

    # The cascade's IR and its two native programs.
    steps.set_postfix_str("compiling the cascade")
    blobs = Blobs()
    plan_module = attach_plan(module, model, fitted, cheap_scale, cols, best, metric, blobs, groups)
    cascade_module = plan_module.clone()
    ctx = context()
    InsertCascadePass().apply(ctx, cascade_module)
    ScheduleLazyPass().apply(ctx, cascade_module)
    cascade_module.verify()
    split = cascade_module.clone()
    LowerCascadePass().apply(ctx, split)
    stage_blobs = traced.blobs | dict(blobs.arrays)
    name = function.sym_name.data
    approx_stage = compile_traced(
        fn, replace(traced, module=only(split, name), blobs=stage_blobs, returns_sparse=False)
    )
    rest_stage = compile_traced(
        fn, replace(traced, module=only(split, name + REST_SUFFIX), blobs=stage_blobs)
    )
    curve = None
    if approx_stage.plan and _is_scores(full_proba, exact, train):
        cheap_scores = np.asarray(approx_stage.run(sample_args)[0][0], dtype=np.float64)
        full_scores = np.asarray(exact(*sample_args), dtype=np.float64)
        curve = fit_candidate_curve(
            cheap_scores, full_scores, precision=topk_precision, confidence=confidence,
            seed=seed,
        )  # fmt: skip
    steps.update()
    steps.close()
    fast = OptimizedPipeline(
        fn, exact, approx_stage, rest_stage, str(cascade_module), (metric, best.threshold),
        report, curve, confidence,
    )  # fmt: skip
    certify_args = subset(train, positions, splits.certify)
    report.speedup = time_call(lambda: exact(*certify_args)) / time_call(
        lambda: fast(*certify_args)
    )
    report.calls.update(rows=0, settled=0)
    return fast


def _is_scores(full_proba: np.ndarray, exact: CompiledPipeline, train: tuple[Any, ...]) -> bool:
    """Whether the function returns one score per row (top-K ranks those)."""
    function = function_of(exact.traced.module)
    (result,) = function.function_type.outputs.data
    return getattr(result, "get_num_dims", lambda: 0)() == 1 and full_proba.shape[1] == 2


def only(module: ModuleOp, name: str) -> ModuleOp:
    """A module holding just the function ``name`` of ``module``."""
    for op in module.ops:
        if isinstance(op, FuncOp) and op.sym_name.data == name:
            copy = op.clone()
            copy.attributes.pop("cascade.settle", None)
            for inner in copy.walk():
                inner.attributes.pop(GROUP, None)
                inner.attributes.pop(GROUPS, None)
            return ModuleOp([copy])
    raise KeyError(name)


def attach_plan(
    module: ModuleOp,
    model: PredictOp,
    fitted: object,
    cheap_scale: object | None,
    cols: list[int],
    best: Candidate,
    metric: str,
    blobs: Blobs,
    groups: list[GroupProfile],
) -> ModuleOp:
    """A copy of ``module`` whose model op carries the profiles and ``cascade.plan``, with
    the cheap model as ``func.func private @<f>_cheap_model``."""
    module = module.clone()
    function = function_of(module)
    model = model_op(function)  # type: ignore[assignment]
    assert isinstance(model, PredictOp)
    probe = module.clone()
    probe_model = model_op(function_of(probe))
    assert isinstance(probe_model, PredictOp)
    narrowed = ColumnNarrower(probe_model).narrow(probe_model.input, cols).type
    if is_sparse(narrowed):
        kinds = [sparse_kind(narrowed.get_element_type())] * len(cols)  # type: ignore
    else:
        kinds = ["f64"] * len(cols)
    lowered = lower_estimator(fitted, "predict_proba", kinds, blobs, cheap_scale)
    result_type = model.result.type if model.method.data == "predict_proba" else None
    if result_type is None:
        from willump_mlir.dialects.pipeline import batch_of

        result_type = batch_of(len(fitted.classes_))  # type: ignore[attr-defined]
    symbol = f"{function.sym_name.data}_cheap_model"
    block = Block(arg_types=[narrowed])
    predict = PredictOp(
        lowered.estimator, lowered.method or "predict_proba", block.args[0], lowered.params,
        result_type,
    )  # fmt: skip
    block.add_ops([predict, ReturnOp(predict.result)])
    cheap_model = FuncOp(
        symbol, ([narrowed], [result_type]), Region(block), visibility="private"
    )
    module.body.block.add_op(cheap_model)
    entries = []
    for entry, profile in zip(model.attributes[GROUPS].data, groups, strict=True):  # type: ignore
        data = dict(entry.data)
        data["cost"] = FloatAttr(profile.cost, f64)
        data["importance"] = FloatAttr(profile.importance, f64)
        entries.append(DictionaryAttr(data))
    model.attributes[GROUPS] = ArrayAttr(entries)
    assert best.threshold is not None
    model.attributes[PLAN] = DictionaryAttr(
        {
            "cheap": DenseArrayBase.from_list(i64, list(best.groups)),
            "model": SymbolRefAttr(symbol),
            "metric": StringAttr(metric),
            "threshold": FloatAttr(best.threshold, f64),
        }
    )
    return module
