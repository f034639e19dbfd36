"""The ``willump`` command: ``willump demo``, ``willump serve``, ``willump bench`` and
``willump corpus``."""

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
    _add_serve(commands)
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
    if options.command == "serve":
        return _serve(parser, options)
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


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve every saved pipeline in REPOSITORY (NAME/VERSION/ directories made by "
        ".save()) over the Open Inference Protocol (KServe V2) REST",
    )
    serve.add_argument("repository", type=Path, help="the model repository directory")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    serve.add_argument(
        "--token-file",
        type=Path,
        help="require 'Authorization: Bearer TOKEN' with the token in this file",
    )
    serve.add_argument(
        "--auth-health",
        action="store_true",
        help="with --token-file, /v2/health/* and /metrics need the token too (default: open)",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=64 << 20, help="larger bodies get 413 (64 MiB)"
    )
    serve.add_argument(
        "--max-rows", type=int, default=100_000, help="requests with more rows get 413"
    )
    serve.add_argument(
        "--trust",
        action="store_true",
        help="load saves that hold a pickle (objects.pkl) without a signature: unpickling "
        "runs code, so only for saves you made (see README, the trust model)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level; the JSON-lines access log is written at info",
    )
    serve.add_argument(
        "--shutdown-delay",
        type=float,
        default=0.0,
        help="seconds to keep answering after SIGTERM while /v2/health/ready fails",
    )
    serve.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        help="seconds in-flight requests get to finish at shutdown",
    )


def _serve(parser: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    if not options.repository.is_dir():
        parser.error(f"repository {str(options.repository)!r} is not a directory")
    token = None
    if options.token_file is not None:
        try:
            token = options.token_file.read_text().strip()
        except OSError as error:
            parser.error(f"--token-file: {error}")
        if not token:
            parser.error(f"--token-file {str(options.token_file)!r} is empty")
    for flag in ("max_body_bytes", "max_rows"):
        if getattr(options, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    try:
        from willump_mlir.serve.app import App, Options, run
        from willump_mlir.serve.repository import Repository
    except ModuleNotFoundError as error:
        if error.name not in ("uvicorn", "httptools", "uvloop", "orjson", "prometheus_client"):
            raise
        print(f"willump serve needs the serve extra (pip install 'willump-mlir[serve]'): "
              f"{error}", file=sys.stderr)  # fmt: skip
        return 2
    app = App(
        lambda on_batch: Repository(options.repository, trust=options.trust, on_batch=on_batch),
        Options(
            max_body_bytes=options.max_body_bytes,
            max_rows=options.max_rows,
            token=token,
            auth_health=options.auth_health,
        ),
    )
    return run(
        app,
        options.host,
        options.port,
        log_level=options.log_level,
        shutdown_delay=options.shutdown_delay,
        drain_timeout=options.drain_timeout,
    )


if __name__ == "__main__":
    raise SystemExit(main())
