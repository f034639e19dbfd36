"""Every corpus case (``willump_mlir.corpus``), compiled on 200 train rows and checked against
the original on held-out rows, single rows and an empty batch (where the original accepts one).

``KNOWN_FAILURES`` are the cases that fail on this branch, with their exact failure; they
are strict xfails, so a fix that makes one pass fails the run until its entry is removed.
"""

from __future__ import annotations

import warnings

import pytest

import willump_mlir as wm
from willump_mlir.corpus import all_cases
from willump_mlir.corpus.run import verify

# a fallback statement rebinding one name keeps a 1-tuple (issue 12, section 1)
TUPLE_ITEM_ASSIGNMENT = (
    "raises: held-out rows: TypeError: 'tuple' object does not support item assignment"
)
TUPLE_INDEXED_BY_NAME = (
    "raises: held-out rows: TypeError: tuple indices must be integers or slices, not str"
)

KNOWN_FAILURES: dict[str, str] = {
    "ames_feature_ridge": TUPLE_ITEM_ASSIGNMENT,
    "ames_quality_loop": TUPLE_ITEM_ASSIGNMENT,
    "boston_numpy": TUPLE_ITEM_ASSIGNMENT,
    "carseats_xgb": TUPLE_ITEM_ASSIGNMENT,
    "creditcard_logistic": TUPLE_ITEM_ASSIGNMENT,
    "creditcard_xgb": (
        "raises: held-out rows: InputError: \"the result of X['heavy'] = df['expenditure'] > "
        '500" has 1 rows where the pipeline has 300'
    ),
    "default_lgbm_reductions": TUPLE_ITEM_ASSIGNMENT,
    "diamonds_ordinal_ridge": TUPLE_ITEM_ASSIGNMENT,
    "flights_carrier_map": TUPLE_ITEM_ASSIGNMENT,
    "flights_column_stack": (
        "raises: held-out rows: AttributeError: 'numpy.ndarray' object has no attribute 'fillna'"
    ),
    "flights_dates": TUPLE_ITEM_ASSIGNMENT,
    "flights_hgb_category": TUPLE_ITEM_ASSIGNMENT,
    "flights_music_batch": (
        "compile: FrontendError: argument 'pcol': unsupported type str; expected a pandas "
        "DataFrame, a 2-D numeric numpy array, a list, 1-D array or Series of str, or a fitted "
        "estimator"
    ),
    "flights_plane_age": TUPLE_INDEXED_BY_NAME,
    "flights_speed_xgb": TUPLE_ITEM_ASSIGNMENT,
    "hmda_masks_gb": TUPLE_ITEM_ASSIGNMENT,
    "loans_hgb_category": TUPLE_ITEM_ASSIGNMENT,
    "loans_issue_month_lgbm": TUPLE_ITEM_ASSIGNMENT,
    "loans_rate_ridge": TUPLE_ITEM_ASSIGNMENT,
    "loans_text_hstack": "compile: NotImplementedError: an hstack of sparse and dense rows",
    "mpg_comprehension": TUPLE_ITEM_ASSIGNMENT,
    "mpg_concat_select": (
        "raises: held-out rows: AttributeError: 'tuple' object has no attribute 'loc'"
    ),
    "mpg_string_ops": TUPLE_ITEM_ASSIGNMENT,
    "penguins_float32": (
        "compile: FrontendError: argument 'X': unsupported DataFrame: a column is neither "
        "numeric nor text (str)"
    ),
    "penguins_lgbm_category": (
        "raises: held-out rows: ValueError: Found array with dim 3, while dim <= 2 is required "
        "by LGBMClassifier."
    ),
    "penguins_mean_center": (
        "raises: held-out rows: AttributeError: 'numpy.ndarray' object has no attribute 'fillna'"
    ),
    "penguins_ratio_assign": (
        "raises: held-out rows: AttributeError: 'tuple' object has no attribute 'fillna'"
    ),
    "penguins_sex_where": TUPLE_ITEM_ASSIGNMENT,
    "penguins_two_merges": (
        "raises: held-out rows: KeyError: \"['island_km2', 'sex_code'] not in index\""
    ),
    "penguins_xgb_multiclass": (
        "raises: empty batch: InputError: argument 'df' is an empty batch (0 rows); pass at "
        "least one row"
    ),
    "penguins_year_assign": (
        "compile: TypeError: Comparison operands must have same type, but provided i64 and f64"
    ),
    "titanic_comprehension": TUPLE_ITEM_ASSIGNMENT,
    "titanic_forest": TUPLE_ITEM_ASSIGNMENT,
    "txhousing_city_merge": TUPLE_INDEXED_BY_NAME,
    "txhousing_nan_result": (
        "raises: held-out rows: AttributeError: 'numpy.ndarray' object has no attribute 'isna'"
    ),
    "txhousing_seasonal": TUPLE_ITEM_ASSIGNMENT,
    "wages_astype": (
        "raises: held-out rows: InputError: \"the result of X['interaction'] = X['exper'] * "
        "X['school']\" has 1 rows where the pipeline has 400"
    ),
    "wages_loop_squares": (
        "raises: held-out rows: InputError: \"the result of X['female'] = "
        "df['sex'].map({'female': 1, 'male': 0})\" has 1 rows where the pipeline has 400"
    ),
}


def params() -> list[object]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name])]
            if name in KNOWN_FAILURES
            else [],
        )
        for name in all_cases()
    ]


def test_known_failures_are_cases() -> None:
    assert set(KNOWN_FAILURES) <= set(all_cases())


def test_corpus_is_large_enough() -> None:
    assert len(all_cases()) >= 40


@pytest.mark.parametrize("name", params())
def test_case(name: str) -> None:
    built = all_cases()[name].build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's feature-name warnings
        compiled = wm.compile(built.fn, example=built.example)
        found = verify(built, compiled)
    assert found is None, f"{found[0]}: {found[1]}"
