"""The text and plot of ``OptimizedPipeline.report()``, rendered from ``ReportData``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from willump_mlir.runtime.optimized import Candidate, Report
    from willump_mlir.stats.topk import CandidateCurve


@dataclass(frozen=True)
class ReportData:
    """What a report shows: the optimizer's ``report`` and the cascade calls run with."""

    name: str  # the pipeline's function
    report: Report
    cascaded: bool  # whether calls run the cascade (else the exact pipeline)
    settle: tuple[str, float] | None  # the confidence metric and threshold that settle a row
    confidence: float  # of the accuracy-loss bound
    curve: CandidateCurve | None  # top-K's candidate curve


def _names(report: Report, candidate: Candidate) -> str:
    names = " + ".join(report.groups[g].name for g in candidate.groups)
    return f"{names} [{candidate.model_params}]" if candidate.model_params else names


def render(data: ReportData) -> str:
    report = data.report
    lines = [f"willump-mlir optimize report: {data.name}", ""]
    if report.groups:
        lines.append("Feature groups (cost measured on compiled code; permutation importance):")
        lines.append(f"  {'group':<32} {'columns':>8} {'µs/row':>10} {'importance':>18}")
        for g in report.groups:
            lines.append(
                f"  {g.name:<32} {g.columns:>8} {g.cost * 1e6:>10.3f} "
                f"{g.importance:>9.4f} ± {g.importance_std:.4f}"
            )
        lines.append(f"  full exact pipeline: {report.full_cost * 1e6:.3f} µs/row")
        lines.append("")
    if report.candidates:
        lines.append("Candidate cheap subsets (choose split):")
        for c in report.candidates:
            if c.cheap_accuracy != c.cheap_accuracy:  # NaN: a top-K-only candidate
                lines.append(
                    f"  {_names(report, c):<40} cheap cost {c.cheap_cost * 1e6:8.3f} "
                    f"µs/row  top-K at K = 1% of rows: expected {c.expected_cost * 1e6:8.3f} "
                    "µs/row"
                )
                continue
            threshold = "none" if c.threshold is None else f"{c.threshold:.6f}"
            lines.append(
                f"  {_names(report, c):<40} threshold {threshold:>9}  settled "
                f"{c.settled_fraction:6.1%}  expected {c.expected_cost * 1e6:8.3f} µs/row  "
                f"cheap accuracy {c.cheap_accuracy:.4f}"
            )
        lines.append("")
    if data.cascaded and report.chosen is not None and report.certified is not None:
        c, cert = report.chosen, report.certified
        metric, threshold = data.settle  # type: ignore[misc]
        lines += [
            f"Chosen: cheap groups {_names(report, c)}, {metric} >= {threshold:.6f}",
            f"Certify split ({cert.rows} rows never used for the choice): settled "
            f"{cert.settled_fraction:.1%}, observed accuracy loss {cert.observed_loss:+.5f}, "
            f"upper bound {cert.bound:.5f} at confidence {data.confidence:g}",
        ]
        if not report.validation:
            lines.append("  (no validation rows were given: the choose and certify rows are rows "
                         "of train, which the model may have been fitted on)")  # fmt: skip
        if report.speedup is not None:
            lines.append(f"Measured speedup over the exact compiled pipeline (certify split, "
                         f"batch): {report.speedup:.2f}x")  # fmt: skip
        if report.calls["rows"]:
            settled = report.calls["settled"] / report.calls["rows"]
            lines.append(f"Calls so far: {int(report.calls['rows'])} rows, {settled:.1%} "
                         "settled early")  # fmt: skip
    else:
        lines.append(report.reason or "No cascade.")
    if data.curve is not None:
        curve = data.curve
        lines.append(
            f"Top-K: candidates from a curve fitted for precision {curve.precision:g} "
            f"at confidence {curve.confidence:g}"
        )
    return "\n".join(lines)


def plot_candidates(report: Report, path: str) -> None:
    """Expected cost against cheap-model accuracy for each candidate; the chosen one marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    top_k_only = all(c.cheap_accuracy != c.cheap_accuracy for c in report.candidates)
    # a top-K-only run (regression) has no accuracy: cheap cost against expected cost
    quality = [c.cheap_cost * 1e6 if top_k_only else c.cheap_accuracy for c in report.candidates]
    costs = [c.expected_cost * 1e6 for c in report.candidates]
    axes.scatter(costs, quality, label="candidates")
    for c, x, y in zip(report.candidates, costs, quality, strict=True):
        axes.annotate(_names(report, c), (x, y), fontsize=7)
    if report.chosen is not None:
        key = (report.chosen.groups, report.chosen.model_params)
        chosen = next(i for i, c in enumerate(report.candidates)
                      if (c.groups, c.model_params) == key)  # fmt: skip
        axes.scatter([costs[chosen]], [quality[chosen]], marker="*", s=200, color="red",
                     label="chosen")  # fmt: skip
    axes.axvline(report.full_cost * 1e6, linestyle="--", color="gray", label="full pipeline")
    axes.set_xlabel("expected cost (µs/row)" + (" of a top-K query, K = 1%" if top_k_only else ""))
    axes.set_ylabel("cheap cost (µs/row)" if top_k_only else "cheap model accuracy (choose split)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
