"""``willump serve`` of this tree against an earlier commit's, side by side: both servers
run at once on the same model repository, each driven by its own ``bench.serving`` load
generator at the same time, so both see the same machine (on a shared machine, CPU time
per request moves by ±10% between runs; measured at once, the ratio moves far less).

    python -m bench.serving_side REV [--rows 1,100] [--encodings json,binary]
        [--concurrency 64] [--repeats 5] [--duration 3]

REV's ``willump_mlir`` (and its dialects and passes) is exported with ``git archive`` and
imported in place of this tree's; the repository is ``bench.serving``'s (lending_club,
compiled by this tree). Prints each repeat and the medians of server CPU µs per request.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench import serving

# run REV's willump serve: this tree's editable install is a finder ahead of sys.path
LAUNCH = (
    "import sys; sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]"
    "; sys.path.insert(0, sys.argv.pop(1)); from willump_mlir.cli import main; "
    "raise SystemExit(main(sys.argv[1:]))"
)


def export(rev: str, into: Path) -> Path:
    """REV's package laid out as installed (dialects and passes inside willump_mlir)."""
    archive = subprocess.run(["git", "archive", rev, "willump_mlir", "dialects", "passes"],
                             cwd=serving.REPO, capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for package in ("dialects", "passes"):
        (into / package).rename(into / "willump_mlir" / package)
    return into


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print it."""
    ap = argparse.ArgumentParser(prog="python -m bench.serving_side", description=__doc__)
    ap.add_argument("rev")
    ap.add_argument("--rows", default="1,100")
    ap.add_argument("--encodings", default="json,binary")
    ap.add_argument("--concurrency", default="64")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--work", default=str(serving.REPO / "bench" / ".work" / "serving"))
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    prep = serving.prepare(work)
    willump = Path(sys.executable).with_name("willump")
    with tempfile.TemporaryDirectory() as scratch:
        base = export(args.rev, Path(scratch))
        commands = {
            args.rev: [sys.executable, "-c", LAUNCH, str(base), "serve"],
            "this tree": [str(willump), "serve"],
        }
        servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        try:
            for name, command in commands.items():
                port = serving.free_port()
                log = work / f"side-{len(servers)}.log"
                proc = serving._spawn([*command, str(work / "repository"), "--port", str(port)],
                                      log)  # fmt: skip
                serving.wait_ready(proc, port, 180, log)
                servers[name] = (proc, port)
            compare(prep, servers, args)
        finally:
            for proc, _ in servers.values():
                serving.stop(proc)
    return 0


def compare(
    prep: serving.Prepared,
    servers: dict[str, tuple[subprocess.Popen[bytes], int]],
    args: argparse.Namespace,
) -> None:
    """Every configuration, ``--repeats`` times, both servers at once."""
    for encoding in args.encodings.split(","):
        for rows in (int(r) for r in args.rows.split(",")):
            requests = {
                name: serving.write_requests(
                    prep, serving.Server(f"side-{k}", ()), port, encoding, rows
                )
                for k, (name, (_, port)) in enumerate(servers.items())
            }
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                cpu: dict[str, list[float]] = {name: [] for name in servers}
                for repeat in range(args.repeats):
                    results: dict[str, dict[str, Any]] = {}
                    threads = [
                        threading.Thread(target=_drive, args=(
                            results, name, servers[name], requests[name], concurrency,
                            args.duration))
                        for name in servers
                    ]  # fmt: skip
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    for name, result in results.items():
                        cpu[name].append(result["server_cpu_us_per_req"])
                    print(f"{encoding} rows={rows} c={concurrency} #{repeat}: " + "; ".join(
                        f"{n} {r['server_cpu_us_per_req']:.0f} µs/req {r['rps']:.0f} req/s"
                        for n, r in results.items()), flush=True)  # fmt: skip
                medians = {name: statistics.median(values) for name, values in cpu.items()}
                before, after = medians.values()
                print(f"== {encoding} rows={rows} c={concurrency}: server CPU µs/req "
                      + ", ".join(f"{n} {m:.0f}" for n, m in medians.items())
                      + f" (ratio {after / before:.2f})", flush=True)  # fmt: skip


def _drive(
    results: dict[str, dict[str, Any]], name: str, server: tuple[subprocess.Popen[bytes], int],
    requests: Path, concurrency: int, duration: float,
) -> None:  # fmt: skip
    proc, port = server
    results[name] = serving.drive(requests, port, concurrency, 1, 1.0, duration, "raw", proc.pid)


if __name__ == "__main__":
    raise SystemExit(main())
