"""Run corpus cases: check each compiled function against the original, time both, and
write the ``willump corpus`` table."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import willump_mlir as wm
from willump_mlir.corpus import Built, Case, iter_cases
from willump_mlir.pipelines import CompiledPipeline
from willump_mlir.selfcheck import difference

SINGLE_ROWS_CHECKED = 3


def failure_text(error: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters)."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"[:200]


def call(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, BaseException | None]:
    """``fn(*args)`` and ``None``, or ``None`` and the exception it raised."""
    try:
        return fn(*args), None
    except Exception as error:  # noqa: BLE001 - reported, not handled
        return None, error


def verify(built: Built, compiled: Callable[..., Any]) -> tuple[str, str] | None:
    """``None`` if ``compiled`` equals the original on the held-out rows, on single rows and
    on an empty batch; else ``(kind, what)``. Kind ``"raises"``: the compiled call raised
    where the original did not; ``"differs"``: its result differs, or it returned one where
    the original raised (an empty batch the original refuses is not checked)."""
    held_out = built.held_out
    batches = [("held-out rows", held_out)]
    batches += [
        (f"single row {i}", built.rows(held_out, i, i + 1)) for i in range(SINGLE_ROWS_CHECKED)
    ]
    batches.append(("empty batch", built.rows(held_out, 0, 0)))
    for label, args in batches:
        expected, refused = call(built.fn, args)
        got, error = call(compiled, args)
        if refused is not None:
            if error is None and label != "empty batch":
                refusal = failure_text(refused)
                return "differs", f"{label}: a result where the original raised {refusal}"
            continue
        if error is not None:
            return "raises", f"{label}: {failure_text(error)}"
        if (found := difference(expected, got)) is not None:
            return "differs", f"{label}: {found}"
    return None


@dataclass
class Outcome:
    """What ``willump corpus`` reports for one case."""

    name: str
    table: str
    idioms: str
    compiles: bool = False
    runs: bool = False
    exact: bool = False
    native: bool = False
    failure: str = ""
    python_ops: list[str] = field(default_factory=list)
    compile_seconds: float | None = None
    batch_rows: int = 0
    batch_speedup: float | None = None
    single_speedup: float | None = None


def median_seconds(fn: Callable[..., Any], args: tuple[Any, ...], repeats: int) -> float:
    """The median wall time of ``fn(*args)`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def python_ops(compiled: CompiledPipeline) -> list[str]:
    """Each Python call of the compiled pipeline as ``source (why: reason)``."""
    return [f"{c.source} (why: {c.reason})" for c in compiled.traced.python_fallbacks.values()]


def reason_kind(op: str) -> str:
    """The reason of a ``python_ops`` entry, to group by: the code it names is elided, but
    for a function that is not recognised its name is kept (``.fillna``, ``pd.concat``)."""
    reason = op.rsplit(" (why: ", 1)[-1].removesuffix(")")
    unknown = re.fullmatch(r"`(.*)` is not a recognised function", reason)
    if unknown is not None:
        code = unknown.group(1)
        name = code if re.fullmatch(r"(pd|np)\.\w+", code) else "." + code.rsplit(".", 1)[-1]
        return f"`{name}` is not a recognised function"
    return re.sub(r"`[^`]*`|(?<=attribute )\.\w+", "…", reason)


def run_case(case: Case, repeats: int, single_rows: int) -> Outcome:
    """Build, compile, check and time one case."""
    outcome = Outcome(case.name, case.table, case.idioms)
    built = case.build()
    try:
        compiled = wm.compile(built.fn, example=built.example)
    except Exception as error:  # noqa: BLE001 - reported in the table
        outcome.failure = f"compile: {failure_text(error)}"
        return outcome
    outcome.compiles = True
    outcome.compile_seconds = compiled.compile_seconds
    outcome.python_ops = python_ops(compiled)
    outcome.native = not outcome.python_ops
    found = verify(built, compiled)
    outcome.runs = found is None or found[0] == "differs"
    if found is not None:
        outcome.failure = f"{found[0]}: {found[1]}"
        return outcome
    outcome.exact = True
    held_out = built.held_out
    outcome.batch_rows = built.row_count(held_out)
    original = median_seconds(built.fn, held_out, repeats)
    outcome.batch_speedup = original / median_seconds(compiled, held_out, repeats)
    rows = [built.rows(held_out, i, i + 1) for i in range(min(single_rows, outcome.batch_rows))]
    rows = [r for r in rows if call(built.fn, r)[1] is None]  # rows the original refuses
    original_single = statistics.median(median_seconds(built.fn, r, 1) for r in rows)
    compiled_single = statistics.median(median_seconds(compiled, r, 1) for r in rows)
    outcome.single_speedup = original_single / compiled_single
    return outcome


def percent(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.0f}%)" if total else "0/0"


def summary(outcomes: list[Outcome]) -> str:
    """One line: compiles, runs, exact, fully native, median speedups."""
    total = len(outcomes)
    singles = [o.single_speedup for o in outcomes if o.single_speedup is not None]
    batches = [o.batch_speedup for o in outcomes if o.batch_speedup is not None]
    slower = sum(s < 1 for s in batches)
    parts = [
        f"{total} cases",
        f"compile {percent(sum(o.compiles for o in outcomes), total)}",
        f"run {percent(sum(o.runs for o in outcomes), total)}",
        f"exact {percent(sum(o.exact for o in outcomes), total)}",
        f"fully native {percent(sum(o.native for o in outcomes), total)}",
        f"median batch speedup {statistics.median(batches):.1f}x" if batches else "",
        f"median single-row speedup {statistics.median(singles):.1f}x" if singles else "",
        f"slower than the original in batch: {slower}",
    ]
    return "; ".join(p for p in parts if p)


def speed(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}x"


def markdown(outcomes: list[Outcome], note: str) -> str:
    """The corpus table and the Python ops / failures under it, as Markdown; ``note`` says
    how it was measured."""
    yes = {True: "yes", False: "**no**"}
    lines = [
        "# willump corpus",
        "",
        summary(outcomes),
        "",
        note,
        "",
        "| case | table | compiles | runs | exact | fully native | Python ops | batch | "
        "single row |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.name} | {o.table} | {yes[o.compiles]} | {yes[o.runs]} | {yes[o.exact]} | "
            f"{yes[o.native]} | {len(o.python_ops)} | {speed(o.batch_speedup)} | "
            f"{speed(o.single_speedup)} |"
        )
    lines += ["", "## Failures", ""]
    lines += [f"- **{o.name}**: {o.failure}" for o in outcomes if o.failure] or ["- none"]
    kinds = Counter(reason_kind(op) for o in outcomes for op in o.python_ops)
    lines += ["", "## Python ops by reason", "", "| ops | reason |", "|---|---|"]
    lines += [f"| {count} | {kind} |" for kind, count in kinds.most_common()]
    lines += ["", "## Python ops (with reasons)", ""]
    for o in outcomes:
        lines += [f"- **{o.name}**: `{op}`" for op in o.python_ops]
    lines += ["", "## Idioms per case", ""]
    lines += [f"- **{o.name}** ({o.table}): {o.idioms}" for o in outcomes]
    return "\n".join(lines) + "\n"


def row_text(o: Outcome) -> str:
    flags = "".join("x" if f else "." for f in (o.compiles, o.runs, o.exact, o.native))
    return (
        f"{o.name:<32}{flags:>6}{len(o.python_ops):>5}{speed(o.batch_speedup):>9}"
        f"{speed(o.single_speedup):>9}  {o.failure[:70]}"
    )


def run_corpus(names: list[str] | None, repeats: int, single_rows: int, output: Path | None) -> int:
    """Run the cases, print the table, write ``corpus.md``/``corpus.json`` under ``output``;
    0 if every case compiles, runs and is exact."""
    note = (
        f"Batch: the held-out rows, median of {repeats} calls; single row: median over "
        f"{single_rows} rows; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "at the start. Speedups are the original's time over the compiled one's."
    )
    print(f"{'case':<32}{'CRXN':>6}{'py':>5}{'batch':>9}{'single':>9}  failure")
    outcomes = []
    for case in iter_cases(names):
        try:
            outcome = run_case(case, repeats, single_rows)
        except Exception as error:  # noqa: BLE001 - the case itself is broken
            traceback.print_exc()
            outcome = Outcome(case.name, case.table, case.idioms, failure=failure_text(error))
        outcomes.append(outcome)
        print(row_text(outcome), flush=True)
    print("\nC compiles, R runs, X exact, N fully native; py: Python ops\n" + summary(outcomes))
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "corpus.md").write_text(markdown(outcomes, note))
        (output / "corpus.json").write_text(
            json.dumps([asdict(o) for o in outcomes], indent=1) + "\n"
        )
        print(f"wrote {output / 'corpus.md'} and {output / 'corpus.json'}")
    return 0 if all(o.exact for o in outcomes) else 1
