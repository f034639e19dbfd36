"""The ``willump`` command: ``willump demo``, ``willump bench`` and ``willump corpus``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="willump", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="compile three real pipelines (lending_club, tweets, movielens) and compare, "
        "then optimize the tweets with a certified cascade",
    )
    demo.add_argument("--single-rows", type=int, default=200, help="single-row calls to time")
    demo.add_argument("--repeats", type=int, default=7, help="timed repeats of the batch call")
    demo.add_argument("--no-cascade", action="store_true", help="skip the wm.optimize part")
    corpus = commands.add_parser(
        "corpus",
        help="compile every corpus case (notebook-style functions on public tables), check it "
        "against the original and time both",
    )
    corpus.add_argument("cases", nargs="*", help="case names (default: all)")
    corpus.add_argument("--repeats", type=int, default=7, help="timed repeats of the batch call")
    corpus.add_argument("--single-rows", type=int, default=50, help="single-row calls to time")
    corpus.add_argument(
        "--output",
        type=Path,
        help="directory for corpus.md and corpus.json (default: bench/results in a source "
        "checkout, else nothing is written)",
    )
    commands.add_parser(
        "bench",
        add_help=False,
        help="run the benchmark harness (bench/); other options go to bench.run",
    )
    options, rest = parser.parse_known_args(argv)
    if rest and options.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if options.command == "demo":
        from willump_mlir.demo import run_demo

        return run_demo(
            single_rows=options.single_rows,
            repeats=options.repeats,
            cascade=not options.no_cascade,
        )
    root = Path(__file__).resolve().parents[1]
    if options.command == "corpus":
        from willump_mlir.corpus import all_cases
        from willump_mlir.corpus.run import run_corpus

        if unknown := sorted(set(options.cases) - set(all_cases())):
            parser.error(f"unknown corpus case(s): {', '.join(unknown)}")
        output = options.output
        if output is None and (root / "bench" / "results").is_dir():
            output = root / "bench" / "results"
        return run_corpus(options.cases or None, options.repeats, options.single_rows, output)
    if not (root / "bench" / "run.py").exists():
        print(
            "willump bench runs from a source checkout (bench/ is not installed)", file=sys.stderr
        )
        return 2
    sys.path.insert(0, str(root))
    from bench.run import main as bench_main

    return bench_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
