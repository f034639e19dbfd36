"""Tree-model peers: treelite + tl2cgen, lleaves (in its own virtual environment), and what they
share with ONNX Runtime: the final estimator of a workload's model, the feature code in front of
it, and LightGBM/XGBoost converters for skl2onnx.

Every peer runs the *whole* pipeline on every call: a peer that only compiles trees gets the
features from the cheapest honest code (a lone ``StandardScaler`` as numpy ``(X - mean_) /
scale_``, the same float64 arithmetic scikit-learn does; other scikit-learn steps through their
own ``transform``; a workload's ``features`` function, e.g. movielens' pandas joins, as is), then
its own predict.  Heavy imports stay inside functions: each runs only in a child process.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import time
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
LLEAVES_VENV_ENV = "WILLUMP_BENCH_LLEAVES_VENV"
LLEAVES_VENV = REPO / "bench" / ".venvs" / "lleaves"
LLEAVES_PINS = ("lleaves==1.3.0", "llvmlite==0.43.*")
MAIN_PATH_FILE = "willump_main_venv.pth"

Features = Callable[[Any], np.ndarray]


class Unsupported(ValueError):
    """A peer cannot run this workload's model (the child records it as a failure)."""


def final_estimator(model: Any) -> Any:
    """The tree model at the end of ``model``: a Pipeline's last step, a workload object's
    ``classifier`` (movielens), or ``model`` itself."""
    if hasattr(model, "steps"):
        return model.steps[-1][1]
    return getattr(model, "classifier", model)


def feature_function(
    model: Any, features: Callable[[Any, Any], Any] | None
) -> tuple[Features, str]:
    """``rows -> float64 array`` the final estimator sees, and a note saying how it is computed.

    ``features`` is the workload's own ``features(rows, model)`` (for models that are not a
    Pipeline); otherwise the steps before a Pipeline's last one, or nothing.
    """
    if features is not None:
        return (
            lambda rows: np.asarray(features(rows, model), dtype=np.float64),
            f"features: the workload's `{features.__name__}` (pandas), then the trees",
        )
    if not hasattr(model, "steps") or len(model.steps) == 1:
        return (lambda rows: np.asarray(rows, dtype=np.float64)), "no feature steps"
    from sklearn.preprocessing import StandardScaler

    prefix = model[:-1]
    if len(prefix.steps) == 1 and type(prefix.steps[0][1]) is StandardScaler:
        scaler = prefix.steps[0][1]
        mean = scaler.mean_ if scaler.with_mean else 0.0
        scale = scaler.scale_ if scaler.with_std else 1.0
        return (
            lambda rows: (np.asarray(rows, dtype=np.float64) - mean) / scale,
            "StandardScaler in numpy, then the trees",
        )
    names = ", ".join(type(step).__name__ for _, step in prefix.steps)
    return (
        lambda rows: np.asarray(prefix.transform(rows), dtype=np.float64),
        f"features: scikit-learn {names}.transform, then the trees",
    )


def with_threads(model: Any, n_jobs: int) -> Any:
    """A copy of ``model`` whose final estimator predicts on ``n_jobs`` threads, if it has an
    ``n_jobs`` parameter (LightGBM, XGBoost, RandomForest); else ``model`` itself."""
    if "n_jobs" not in final_estimator(model).get_params(deep=False):
        return model
    copy = deepcopy(model)
    final_estimator(copy).set_params(n_jobs=n_jobs)
    return copy


def library(estimator: Any) -> str:
    """``"lightgbm"``, ``"xgboost"`` or ``"sklearn"``: whose model this is."""
    root = type(estimator).__module__.split(".")[0]
    return root if root in ("lightgbm", "xgboost") else "sklearn"


def register_onnx_converters() -> None:
    """Teach skl2onnx the LightGBM and XGBoost classifiers/regressors (onnxmltools' converters)."""
    import lightgbm
    import xgboost
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for cls, alias, convert in (
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ):
        update_registered_converter(
            cls, alias, calculate_linear_classifier_output_shapes, convert, options=options
        )
    for cls, alias, convert in (
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
    ):
        update_registered_converter(cls, alias, calculate_linear_regressor_output_shapes, convert)


# --------------------------------------------------------------------------------------------
# treelite + tl2cgen


def treelite_model(estimator: Any) -> Any:
    """Import the fitted estimator into treelite (scikit-learn, LightGBM or XGBoost)."""
    import treelite

    kind = library(estimator)
    if kind == "lightgbm":
        return treelite.frontend.from_lightgbm(estimator.booster_)
    if kind == "xgboost":
        return treelite.frontend.from_xgboost(estimator.get_booster())
    return treelite.sklearn.import_model(estimator)


def tl2cgen_library(model: Any, path: Path, threads: int) -> None:
    """Generate C for ``model`` and compile it with gcc into the shared library ``path``."""
    import tl2cgen

    tl2cgen.export_lib(
        model,
        toolchain="gcc",
        libpath=str(path),
        params={"parallel_comp": max(threads, 1)},
        nthread=threads,
        verbose=False,
    )


def tl2cgen_scorer(path: Path, input_type: str, threads: int, features: Features) -> Features:
    """``rows -> P(class 1)``: features, a tl2cgen ``DMatrix`` in the model's input type (the
    conversion is part of each call) and the compiled library's predict."""
    import tl2cgen

    predictor = tl2cgen.Predictor(str(path), nthread=threads, verbose=False)
    dtype = np.dtype(input_type)

    def run(rows: Any) -> np.ndarray:
        x = np.ascontiguousarray(features(rows), dtype=dtype)
        out = predictor.predict(tl2cgen.DMatrix(x))
        return out.reshape(len(x), -1)[:, -1]  # binary: P(class 1) is the last column

    return run


# --------------------------------------------------------------------------------------------
# lleaves: its own virtual environment (lleaves 1.3.0 needs llvmlite 0.43; ours has 0.50)


def lleaves_venv() -> Path:
    """Where the lleaves environment lives (``$WILLUMP_BENCH_LLEAVES_VENV`` overrides)."""
    return Path(os.environ.get(LLEAVES_VENV_ENV) or LLEAVES_VENV)


def lleaves_python(timeout: float = 900.0) -> str:
    """The lleaves environment's interpreter, creating the environment on first use.

    ``python -m venv`` from this interpreter, ``pip install lleaves==1.3.0 llvmlite==0.43.*``
    (and this environment's numpy version), then a ``.pth`` file appends this environment's
    site-packages, so pandas, scikit-learn, LightGBM and the bench harness are the very same
    versions as in the main run, while its own llvmlite 0.43 comes first on ``sys.path``.
    Raises ``RuntimeError("could not install: ...")`` when any step fails.
    """
    venv = lleaves_venv()
    python = venv / "bin" / "python"
    if python.exists() and any(venv.glob(f"lib/python*/site-packages/{MAIN_PATH_FILE}")):
        return str(python)
    try:
        _create_lleaves_venv(venv, python, timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"could not install: {exc}") from exc
    return str(python)


def _create_lleaves_venv(venv: Path, python: Path, timeout: float) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    (venv.parent / ".gitignore").write_text("*\n")  # environments are never committed
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
         *LLEAVES_PINS, f"numpy=={np.__version__}"],
    ]  # fmt: skip
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = " / ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise subprocess.SubprocessError(f"{' '.join(cmd[:4])} ...: {tail}")
    own_site = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    main_dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    Path(own_site, MAIN_PATH_FILE).write_text("\n".join(main_dirs) + "\n")


def lleaves_scorer(
    estimator: Any, work_dir: Path, tag: str, threads: int, features: Features
) -> tuple[Features, Features, float, str]:
    """Compile a LightGBM model with lleaves: ``(batch_fn, single_fn, compile_s, note)``."""
    from importlib.metadata import version

    import lleaves

    if library(estimator) != "lightgbm":
        raise Unsupported(f"lleaves compiles LightGBM models only, not {type(estimator).__name__}")
    model_file = work_dir / f"{tag}-lightgbm.txt"
    estimator.booster_.save_model(str(model_file))
    start = time.perf_counter()
    model = lleaves.Model(model_file=str(model_file))
    model.compile()
    compile_s = time.perf_counter() - start

    def runner(n_jobs: int) -> Features:
        def run(rows: Any) -> np.ndarray:
            return model.predict(np.ascontiguousarray(features(rows)), n_jobs=n_jobs)

        return run

    note = f"lleaves {version('lleaves')}, llvmlite {version('llvmlite')} (own venv)"
    return runner(threads), runner(1), compile_s, note
