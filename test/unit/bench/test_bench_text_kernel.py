"""``bench.text_kernel``'s callgrind totals and its table (the measurement itself runs
two checkouts side by side: on demand, not in CI)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

from bench import text_kernel  # noqa: E402


def test_counts_are_per_traced_tweet(tmp_path: Path) -> None:
    out = tmp_path / "callgrind.out"
    out.write_text(
        "version: 1\ncreator: callgrind-3.19.0\n"
        "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim\n"
        "fl=(1) x\nfn=(1) y\n0 1 2 3 4 5 6 7 8 9 10 11 12 13\n"
        "summary: 3000000 0 0 0 6000 3000 0 300 0 0 900 0 0\n"
        "totals: 3000000 0 0 0 6000 3000 0 300 0 0 900 0 0\n"
    )
    assert text_kernel.counts(out) == {"Ir": 1000, "D1mr": 2, "D1mw": 1, "DLmr": 0.1, "Bcm": 0.3}


def test_table_lists_every_run_and_the_counts() -> None:
    runs = {
        "abc123": [{"maxdiff": 0.0, "min_us": 8.0, "median_us": 9.0},
                   {"maxdiff": 0.0, "Ir": 42000.0, "D1mr": 700.0, "D1mw": 400.0,
                    "DLmr": 200.0, "Bcm": 430.0}],
        "this checkout": [{"maxdiff": 1e-15, "min_us": 6.0, "median_us": 7.0},
                          {"maxdiff": 1e-15, "Ir": 32000.0, "D1mr": 870.0, "D1mw": 80.0,
                           "DLmr": 200.0, "Bcm": 260.0}],
    }  # fmt: skip
    report = text_kernel.table(runs, "abc123", "1.0 1.0 1.0")
    assert "| abc123 | 1 | 8.00 | 9.00 | 0.0e+00 |" in report
    assert "| this checkout | 1 | 6.00 | 7.00 | 1.0e-15 |" in report
    assert "| this checkout | 32,000 | 870 | 80 | 200 | 260 |" in report


def test_pools_sorted_are_the_same_rows_by_tweet() -> None:
    import numpy as np

    test = [f"tweet {k}" for k in range(2_000)]
    batches = text_kernel.pools(test, np.random.default_rng(0), ordered=True)
    assert list(batches) == ["30", "30 sorted", "300", "300 sorted", "1000", "1000 sorted",
                             "2000", "2000 sorted"]  # fmt: skip
    for pool in ("30", "300", "1000", "2000"):
        drawn, ordered = batches[pool], batches[f"{pool} sorted"]
        assert len(drawn) == text_kernel.ROWS and len(set(drawn)) <= int(pool)
        assert ordered == sorted(drawn, key=lambda text: int(text.split()[1]))
    assert list(text_kernel.pools(test, np.random.default_rng(0), ordered=False)) == [
        "30", "300", "1000", "2000"]  # fmt: skip


def test_interpreted_work_between_calls_leaves_its_objects_as_they_were() -> None:
    import copy

    before = copy.deepcopy(text_kernel.INTERPRETED)
    assert text_kernel.interpreted() is None
    assert text_kernel.INTERPRETED == before and len(before) == 3_000
