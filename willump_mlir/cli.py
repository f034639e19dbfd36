"""The ``willump`` command: ``willump demo`` and ``willump bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="willump", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="compile three real pipelines (lending_club, tweets, movielens) and compare, "
        "then optimize the tweets with a certified cascade"
    )
    demo.add_argument("--single-rows", type=int, default=200, help="single-row calls to time")
    demo.add_argument("--repeats", type=int, default=7, help="timed repeats of the batch call")
    demo.add_argument("--no-cascade", action="store_true", help="skip the wm.optimize part")
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
