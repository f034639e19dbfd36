"""The refit guard's dict version tags (``refit._Tags``): while the dicts holding watched
attributes keep their tags, their entries are not checked one by one; any change to such a
dict, even one that leaves the watched objects in place, makes the next call check them
all, and a change after that is caught as well."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm
from willump_mlir.runtime import refit


@pytest.fixture
def compiled() -> tuple[wm.CompiledPipeline, object, np.ndarray]:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3))
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] > 0)

    def score(x: np.ndarray, model: object) -> np.ndarray:
        return model.predict_proba(x)

    return wm.compile(score, (X[:8], model)), model, X


@pytest.mark.skipif(
    sys.implementation.name != "cpython" or sys.version_info >= (3, 14),
    reason="dict version tags are read on CPython 3.11 to 3.13 only",
)
def test_tags_cover_the_estimators_attributes(compiled) -> None:
    fast, model, X = compiled
    guard = fast.guard
    assert guard.tags is not None and len(guard.others) < len(guard.watched)
    assert {id(vars(step)) for step in model} <= {id(d) for d in guard.tags.dicts}


def test_a_change_that_keeps_the_watched_objects_then_a_refit(compiled) -> None:
    """A new attribute (not watched) and a parameter set again to its value change the
    tags, not what the compiled code computes; a later change of a watched attribute,
    made in a loop the interpreter specialises, is still caught."""
    fast, model, X = compiled
    classifier = model[-1]
    classifier.note = "not watched"
    classifier.C = float(classifier.C)  # an equal value: no change
    for _ in range(3):
        np.testing.assert_allclose(fast(X[:2], model), model.predict_proba(X[:2]), atol=1e-12)
    coef = classifier.coef_
    for repeat in range(40):
        classifier.coef_ = coef if repeat % 2 else coef.copy()
        if repeat % 2:
            fast(X[:1], model)
        else:
            with pytest.raises(wm.RefitError, match="coef_"):
                fast(X[:1], model)


def test_a_write_through_vars_is_caught(compiled) -> None:
    fast, model, X = compiled
    fast(X[:1], model)
    vars(model[0])["scale_"] = model[0].scale_ * 2
    with pytest.raises(wm.RefitError, match="scale_"):
        fast(X[:1], model)


def test_the_interpreter_renews_instance_dict_tags() -> None:
    if refit._DICT_VERSIONS:
        assert refit._instance_versions_work()
