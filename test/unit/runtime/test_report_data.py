"""``OptimizedPipeline.report()`` renders ``ReportData``: plain data, no pipeline needed."""

from __future__ import annotations

from willump_mlir.runtime.optimized import Candidate, GroupProfile, Report
from willump_mlir.runtime.report import ReportData, render
from willump_mlir.stats.thresholds import ThresholdChoice
from willump_mlir.stats.topk import CandidateCurve


def report() -> Report:
    groups = [GroupProfile("words", 2e-6, 0.12, 0.01, 100), GroupProfile("chars", 8e-6, 0.03,
                                                                         0.01, 400)]  # fmt: skip
    chosen = Candidate((0,), 2e-6, 0.9, 0.8, 3.6e-6, 0.95)
    return Report(
        groups, [chosen], "", full_cost=1e-5, chosen=chosen,
        certified=ThresholdChoice(0.9, 0.79, 1, 500, 0.002, 0.008), speedup=2.5,
        calls={"rows": 10, "settled": 8},
    )  # fmt: skip


def test_a_cascade_report_renders_from_data() -> None:
    data = ReportData("score", report(), True, ("top_probability", 0.9), 0.95, None)
    text = render(data)
    assert text.startswith("willump-mlir optimize report: score\n")
    assert "Chosen: cheap groups words, top_probability >= 0.900000" in text
    assert "upper bound 0.00800 at confidence 0.95" in text
    assert "Measured speedup over the exact compiled pipeline (certify split, batch): 2.50x" in text
    assert "Calls so far: 10 rows, 80.0% settled early" in text
    assert "Top-K" not in text


def test_without_a_cascade_the_report_gives_the_reason_and_the_top_k_curve() -> None:
    plain = Report([], [], "No cheap subset keeps the loss bound.")
    curve = CandidateCurve((2.0,), (0.01,), 0.99, 0.9)
    text = render(ReportData("score", plain, False, None, 0.95, curve))
    assert "No cheap subset keeps the loss bound." in text
    assert "Top-K: candidates from a curve fitted for precision 0.99 at confidence 0.9" in text
