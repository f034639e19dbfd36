"""The benchmark harness runs each system in its own process with the threads it measures
(batch runs on 2): those processes get the libraries' default OpenMP threads back, not the
one thread the rest of the suite runs with (tl2cgen refuses 2 threads when OpenMP allows 1)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def default_openmp_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
