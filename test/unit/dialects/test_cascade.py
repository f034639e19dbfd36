"""Build every ``cascade`` op through its Python constructors and verify it."""

import pytest
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import test as test_dialect
from xdsl.dialects.builtin import DYNAMIC_INDEX, ModuleOp, SymbolRefAttr, TensorType, f64, i1, i64
from xdsl.dialects.func import CallOp, FuncOp
from xdsl.ir import Attribute, Block, SSAValue
from xdsl.utils.exceptions import VerifyException

from willump_mlir.dialects.cascade import (
    INDEX_TYPE,
    MASK_TYPE,
    ApproxPredictOp,
    Cascade,
    CompactOp,
    ConfidenceMaskOp,
    ConfidenceMetric,
    LazyBranchOp,
    MergeOp,
    TopKCandidatesOp,
    YieldOp,
)

CHEAP_FEATURES = TensorType(f64, [DYNAMIC_INDEX, 4])
ALL_FEATURES = TensorType(f64, [DYNAMIC_INDEX, 8])
PROBABILITIES = TensorType(f64, [DYNAMIC_INDEX, 2])
SCORES = TensorType(f64, [DYNAMIC_INDEX])


def _values(*types: Attribute) -> tuple[SSAValue, ...]:
    """Fresh SSA values of the given types, defined by a detached ``test.op``."""
    return tuple(test_dialect.TestOp(result_types=types).results)


def test_dialect_lists_every_op() -> None:
    names = {op.name for op in Cascade.operations}
    assert names == {
        "cascade.approx_predict",
        "cascade.confidence_mask",
        "cascade.compact",
        "cascade.select_rows",
        "cascade.merge",
        "cascade.lazy_branch",
        "cascade.yield",
        "cascade.topk_candidates",
    }
    assert [attr.name for attr in Cascade.attributes] == ["cascade.metric"]


def test_full_cascade_in_a_module_verifies() -> None:
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        FuncOp.external("cheap", [CHEAP_FEATURES], [PROBABILITIES])
        FuncOp.external("full", [ALL_FEATURES], [PROBABILITIES])
        inputs = test_dialect.TestOp(result_types=[CHEAP_FEATURES, ALL_FEATURES])
        x_cheap, x = inputs.results

        approx = ApproxPredictOp("cheap", x_cheap, PROBABILITIES)
        mask = ConfidenceMaskOp(approx, 0.9)
        compact = CompactOp(x, mask)
        branch = LazyBranchOp.build([compact.rest], [PROBABILITIES])
        with ImplicitBuilder(branch.body.block) as (rest,):
            call = CallOp("full", [rest], [PROBABILITIES])
            YieldOp(call)
        merge = MergeOp(branch, approx, compact.rows)
    module.verify()

    assert approx.model == SymbolRefAttr("cheap")
    assert mask.metric.data == ConfidenceMetric.TOP_PROBABILITY
    assert mask.threshold.value.data == 0.9
    assert mask.settled.type == MASK_TYPE
    assert compact.rest.type == ALL_FEATURES
    assert compact.rows.type == INDEX_TYPE
    assert branch.outputs.types == (PROBABILITIES,)
    assert merge.result.type == PROBABILITIES


def test_approx_predict_checks_the_model_symbol() -> None:
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        FuncOp.external("cheap", [CHEAP_FEATURES], [SCORES])
        (x,) = test_dialect.TestOp(result_types=[CHEAP_FEATURES]).results
        ApproxPredictOp("cheap", x, PROBABILITIES)
    with pytest.raises(VerifyException, match="model '@cheap' has type"):
        module.verify()


def test_approx_predict_requires_a_model_function() -> None:
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        (x,) = test_dialect.TestOp(result_types=[CHEAP_FEATURES]).results
        ApproxPredictOp("missing", x, PROBABILITIES)
    with pytest.raises(VerifyException, match="does not reference a func.func"):
        module.verify()


@pytest.mark.parametrize(
    ("probabilities", "metric", "threshold"),
    [
        (SCORES, ConfidenceMetric.TOP_PROBABILITY, 0.5),
        (SCORES, ConfidenceMetric.TOP_PROBABILITY, 1.0),
        (TensorType(f64, [DYNAMIC_INDEX, 4]), ConfidenceMetric.TOP_PROBABILITY, 0.3),
        (TensorType(f64, [DYNAMIC_INDEX, 3]), ConfidenceMetric.MARGIN, 0.0),
        (SCORES, ConfidenceMetric.MARGIN, 0.8),
    ],
)
def test_confidence_mask_accepts_thresholds_in_range(
    probabilities: Attribute, metric: ConfidenceMetric, threshold: float
) -> None:
    (p,) = _values(probabilities)
    ConfidenceMaskOp(p, threshold, metric).verify()


@pytest.mark.parametrize(
    ("probabilities", "metric", "threshold"),
    [
        (SCORES, ConfidenceMetric.TOP_PROBABILITY, 0.49),
        (SCORES, ConfidenceMetric.TOP_PROBABILITY, 1.01),
        (TensorType(f64, [DYNAMIC_INDEX, 4]), ConfidenceMetric.TOP_PROBABILITY, 0.2),
        (SCORES, ConfidenceMetric.MARGIN, -0.1),
        (SCORES, ConfidenceMetric.MARGIN, float("nan")),
    ],
)
def test_confidence_mask_rejects_thresholds_out_of_range(
    probabilities: Attribute, metric: ConfidenceMetric, threshold: float
) -> None:
    (p,) = _values(probabilities)
    with pytest.raises(VerifyException, match="threshold must lie in"):
        ConfidenceMaskOp(p, threshold, metric).verify()


def test_confidence_mask_rejects_a_non_batch() -> None:
    (p,) = _values(TensorType(f64, [16, 2]))
    with pytest.raises(VerifyException, match="dynamic leading dimension"):
        ConfidenceMaskOp(p, 0.9).verify()


def test_compact_keeps_the_batch_type() -> None:
    batch = TensorType(i64, [DYNAMIC_INDEX])
    x, mask = _values(batch, MASK_TYPE)
    op = CompactOp(x, mask)
    op.verify()
    assert op.rest.type == batch
    assert op.rows.type == INDEX_TYPE


def test_compact_rejects_a_wrong_mask() -> None:
    x, mask = _values(ALL_FEATURES, TensorType(i1, [8]))
    with pytest.raises(VerifyException, match="operand 'settled'"):
        CompactOp(x, mask).verify()


def test_merge_requires_equal_result_types() -> None:
    full, approx, rows = _values(SCORES, PROBABILITIES, INDEX_TYPE)
    with pytest.raises(VerifyException, match="expected from variable 'T'"):
        MergeOp(full, approx, rows).verify()


def test_lazy_branch_checks_yield_types() -> None:
    (rest,) = _values(ALL_FEATURES)
    branch = LazyBranchOp.build([rest], [PROBABILITIES])
    with ImplicitBuilder(branch.body.block) as (r,):
        YieldOp(r)
    with pytest.raises(VerifyException, match="must match the results"):
        branch.verify()


def test_lazy_branch_checks_block_arguments() -> None:
    (rest,) = _values(ALL_FEATURES)
    block = Block(arg_types=[CHEAP_FEATURES])
    with ImplicitBuilder(block) as (r,):
        YieldOp(r)
    branch = LazyBranchOp([rest], [CHEAP_FEATURES], block)
    with pytest.raises(VerifyException, match="body arguments"):
        branch.verify()


def test_lazy_branch_with_several_inputs() -> None:
    ids = TensorType(i64, [DYNAMIC_INDEX])
    features, row_ids = _values(ALL_FEATURES, ids)
    branch = LazyBranchOp.build([features, row_ids], [SCORES, ids])
    with ImplicitBuilder(branch.body.block) as (f, r):
        (score,) = test_dialect.TestOp([f], result_types=[SCORES]).results
        YieldOp(score, r)
    branch.verify()
    assert branch.body.block.arg_types == (ALL_FEATURES, ids)


def test_topk_candidates() -> None:
    scores, k = _values(SCORES, i64)
    plain = TopKCandidatesOp(scores, k)
    plain.verify()
    assert plain.oversample is None
    assert plain.candidates.type == INDEX_TYPE

    wide = TopKCandidatesOp(scores, k, oversample=2.0)
    wide.verify()
    assert wide.oversample is not None and wide.oversample.value.data == 2.0

    for bad in (0.5, float("inf")):
        with pytest.raises(VerifyException, match="oversample must be a finite number >= 1"):
            TopKCandidatesOp(scores, k, oversample=bad).verify()
