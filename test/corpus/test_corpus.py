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

#: Cases that fail today, each with its exact failure: strict xfails, so a fix that makes
#: one pass fails the run until its entry is removed. Empty: every case is exact.
KNOWN_FAILURES: dict[str, str] = {}


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
