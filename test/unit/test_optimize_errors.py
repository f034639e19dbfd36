"""Bad arguments to ``wm.optimize``: a clear ``InputError`` or ``TypeError`` naming the
argument, raised before any search."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm


def score(frame: pd.DataFrame, model: LogisticRegression) -> np.ndarray:
    near = frame[["a", "b"]].to_numpy()
    far = np.tanh(frame[["c", "d"]].to_numpy())
    return model.predict_proba(np.hstack([near, far]))[:, 1]


def features(frame: pd.DataFrame) -> np.ndarray:
    return np.hstack([frame[["a", "b"]].to_numpy(), np.tanh(frame[["c", "d"]].to_numpy())])


@pytest.fixture(scope="module")
def work() -> SimpleNamespace:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(600, 4)), columns=list("abcd"))
    y = (frame["a"] + frame["c"] + rng.normal(scale=0.5, size=600) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(features(frame), y)
    return SimpleNamespace(frame=frame, y=y, model=model)


def optimize(work: SimpleNamespace, **overrides: object) -> object:
    arguments = {"fn": score, "train": (work.frame, work.model), "y": work.y,
                 "progress": False} | overrides  # fmt: skip
    return wm.optimize(**arguments)


def test_y_of_the_wrong_length(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="y has 599 labels but train has 600 rows"):
        optimize(work, y=work.y[:-1])


def test_y_not_one_dimensional(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match=re.escape("y must be one label per row (1-D)")):
        optimize(work, y=work.y[:, None])


def test_y_with_a_single_class(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="y has a single class"):
        optimize(work, y=np.ones(600, dtype=int))


def test_y_with_labels_the_model_does_not_know(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="y has labels the model was not fitted on"):
        optimize(work, y=np.where(work.y == 1, 2, 0))


def test_too_few_rows(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="too few rows") as caught:
        optimize(work, train=(work.frame[:40], work.model), y=work.y[:40])
    assert "train 20" in str(caught.value)


def test_too_few_validation_rows(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="too few rows"):
        optimize(work, validation=(work.frame[:40], work.model), validation_y=work.y[:40])


def test_a_model_that_cannot_be_cloned(work: SimpleNamespace) -> None:
    """A fitted LogisticRegression whose parameter cannot be deep-copied. (A subclass whose
    ``__init__`` only sets an extra attribute clones fine, and a subclass is not compiled
    natively at all, so optimize refuses it earlier: "0 model calls".)"""
    model = clone(work.model).fit(features(work.frame), work.y)
    model.random_state = threading.Lock()  # fit is over: predict never reads it
    with pytest.raises(TypeError, match="cannot pickle"):
        clone(model)
    with pytest.raises(wm.InputError, match="the model LogisticRegression cannot be cloned"):
        optimize(work, train=(work.frame, model))


@pytest.mark.parametrize("loss", [0, 1, -0.1, 1.5])
def test_max_accuracy_loss_outside_the_unit_interval(work: SimpleNamespace, loss: float) -> None:
    with pytest.raises(wm.InputError, match=re.escape("max_accuracy_loss must lie in (0, 1)")):
        optimize(work, max_accuracy_loss=loss)


@pytest.mark.parametrize("level", [0, 1, -0.5, 95])
def test_confidence_outside_the_unit_interval(work: SimpleNamespace, level: float) -> None:
    with pytest.raises(wm.InputError, match=re.escape("confidence must lie in (0, 1)")):
        optimize(work, confidence=level)


def test_train_not_a_tuple(work: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="train must be a tuple .* got list"):
        optimize(work, train=[work.frame, work.model])


def test_fn_not_callable(work: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="fn must be the pipeline function"):
        optimize(work, fn="score")


def test_validation_without_validation_y(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="validation and validation_y come together"):
        optimize(work, validation=(work.frame, work.model))
    with pytest.raises(wm.InputError, match="validation and validation_y come together"):
        optimize(work, validation_y=work.y)


def test_validation_not_a_tuple(work: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="validation must be a tuple"):
        optimize(work, validation=[work.frame, work.model], validation_y=work.y)


def test_validation_y_of_the_wrong_length(work: SimpleNamespace) -> None:
    with pytest.raises(wm.InputError, match="validation_y has 599 labels but validation has 600"):
        optimize(work, validation=(work.frame, work.model), validation_y=work.y[:-1])


def test_unknown_metric(work: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="metric must be one of .* got 'bogus'"):
        optimize(work, metric="bogus")
