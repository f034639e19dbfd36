"""The ``willump`` command: ``willump demo``, ``willump serve``, ``willump predict --ray``,
``willump bench`` and ``willump corpus``."""

from __future__ import annotations

import argparse
import ipaddress
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
    predict = commands.add_parser(
        "predict",
        help="score a Parquet directory into a Parquet directory on a Ray cluster with a "
        "pipeline saved by pipeline.save",
    )
    predict.add_argument(
        "--ray",
        required=True,
        metavar="ADDRESS",
        help="the cluster: HOST:PORT of its head (ray start's --port), 'auto' (the one ray "
        "start left on this machine, or $RAY_ADDRESS), or 'local' to start one here",
    )
    predict.add_argument("model", type=Path, help="a directory written by pipeline.save")
    predict.add_argument("input", help="Parquet file or directory with the rows")
    predict.add_argument("output", type=Path, help="directory for the scored Parquet files")
    predict.add_argument(
        "--trust",
        action="store_true",
        help="load a save holding pickled Python objects (unpickling runs code: only saves "
        "you trust; or set $WILLUMP_MLIR_SIGNING_KEY to check its signature)",
    )
    predict.add_argument("--column", default="prediction", help="name of the appended column")
    predict.add_argument("--batch-size", type=int, default=65536, help="rows per kernel call")
    predict.add_argument("--num-cpus", type=float, default=1, help="CPUs (threads) per task")
    predict.add_argument(
        "--local-cpus", type=int, help="with --ray local: CPUs of the local instance"
    )
    predict.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_serve(commands)
    commands.add_parser(
        "bench",
        add_help=False,
        help="run the benchmark harness (bench/); other options go to bench.run",
    )
    argv = sys.argv[1:] if argv is None else argv
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
    if options.command == "predict":
        return run_predict(options)
    if options.command == "serve":
        return _serve(parser, options, argv)
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


def run_predict(options: argparse.Namespace) -> int:
    """``willump predict --ray``: 0 when the output is written, 2 for a bad model, input or
    address (the message says which), 1 when the job fails on the cluster."""
    try:
        from willump_mlir import ray as wm_ray
    except ImportError as error:
        print(f"willump predict: needs Ray ({error}); pip install 'willump-mlir[ray]'",
              file=sys.stderr)  # fmt: skip
        return 2
    from willump_mlir.runtime.marshal import InputError

    if options.output.exists() and any(options.output.iterdir()):
        print(f"willump predict: {options.output} is not empty; give a new directory",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        return wm_ray.score_parquet(
            options.model, options.input, options.output, address=options.ray,
            trust=options.trust, column=options.column, batch_size=options.batch_size,
            num_cpus=options.num_cpus, local_cpus=options.local_cpus,
            progress=not options.no_progress,
        )  # fmt: skip
    except (InputError, wm_ray.ClusterError) as error:
        print(f"willump predict: {error}", file=sys.stderr)
        return 2
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
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a request's line and headers may take to arrive; then 408 and close",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a request's body may take to arrive after its headers; then 408 and close",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a proxy (address or network, repeatable) whose X-Forwarded-For names the "
        "client in the access log; the header is ignored from other peers",
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
    serve.add_argument(
        "--workers",
        default="1",
        help="worker processes answering on the same port (each with its own models and "
        "batching; 'auto': one per CPU this process may use); default 1",
    )
    serve.add_argument("--worker", help=argparse.SUPPRESS)  # SLOT:CONTROL_FD:LISTEN_FD,...
    serve.add_argument("--unloaded", action="append", default=[], help=argparse.SUPPRESS)


def _serve(parser: argparse.ArgumentParser, options: argparse.Namespace, argv: list[str]) -> int:
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
    for flag in ("max_body_bytes", "max_rows", "header_timeout", "body_timeout"):
        if not getattr(options, flag) > 0:
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    for proxy in options.trusted_proxy:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as error:
            parser.error(f"--trusted-proxy: {error}")
    try:
        from willump_mlir.serve.app import App, Options, run, settle_heap
        from willump_mlir.serve.repository import Repository
        from willump_mlir.serve.workers import available_cpus, worker_spec
    except ModuleNotFoundError as error:
        if error.name not in ("httptools", "uvloop", "orjson", "prometheus_client"):
            raise
        print(f"willump serve needs the serve extra (pip install 'willump-mlir[serve]'): "
              f"{error}", file=sys.stderr)  # fmt: skip
        return 2
    if options.workers == "auto":
        workers = available_cpus()
    elif options.workers.isdigit() and int(options.workers) > 0:
        workers = int(options.workers)
    else:
        parser.error(f"--workers must be a positive integer or 'auto', got {options.workers!r}")
    if workers > 1 and options.worker is None:
        return _supervise(options, argv, workers)
    slot, control, listening = None, -1, []
    if options.worker is not None:
        slot, control, listening = worker_spec(options.worker)
    app = App(
        lambda on_batch: Repository(
            options.repository,
            trust=options.trust,
            on_batch=on_batch,
            on_loaded=settle_heap,
            unloaded=tuple(options.unloaded),
        ),
        Options(
            max_body_bytes=options.max_body_bytes,
            max_rows=options.max_rows,
            token=token,
            auth_health=options.auth_health,
            header_timeout=options.header_timeout,
            body_timeout=options.body_timeout,
            trusted_proxies=tuple(options.trusted_proxy),
        ),
        worker=slot,
    )
    return run(
        app,
        options.host,
        options.port,
        log_level=options.log_level,
        shutdown_delay=options.shutdown_delay,
        drain_timeout=options.drain_timeout,
        worker=(listening, control) if slot is not None else None,
    )


def _supervise(options: argparse.Namespace, argv: list[str], workers: int) -> int:
    """``willump serve --workers N`` (N > 1): the parent (``serve.workers.Supervisor``)."""
    import asyncio
    import logging

    from willump_mlir.serve.workers import Supervisor, bind

    logging.basicConfig(level=options.log_level.upper(), stream=sys.stderr)
    try:
        sockets = bind(options.host, options.port)
    except OSError as error:
        print(f"willump serve: cannot listen on {options.host} port {options.port}: {error}",
              file=sys.stderr)  # fmt: skip
        return 3

    def command(spec: str, unloaded: list[str]) -> list[str]:
        extra = [a for name in unloaded for a in ("--unloaded", name)]
        return [sys.executable, "-m", "willump_mlir.cli", *argv, "--worker", spec, *extra]

    return asyncio.run(Supervisor(command, workers, sockets).run())


if __name__ == "__main__":
    raise SystemExit(main())
