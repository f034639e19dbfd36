"""Adaptive batching in process: one-row lending_club requests from closed-loop clients.

The model side of ``willump serve`` without HTTP: ``ModelVersion.infer`` on decoded
requests (float64 arrays, object arrays of str) from 1, 8 and 64 concurrent clients, with
batching on (the defaults of ``willump-serve.json``) and off (``"batching": false``, every
request its own call), both with the wait budget lifted (``max_wait_ms``) so that a pause of
the shared machine refuses no request of the closed loop, on the event loop ``willump serve``
runs (uvloop when installed). Each setting runs in a process of its own, rounds alternating. The
table says whether each p99 is inside the latency objective (``max_latency_ms``).

    python -m bench.batching [--seconds 3] [--rounds 2]

writes ``bench/results/batching.md``. ``--http`` measures the same over HTTP instead: ``willump
serve`` on that repository (batching on, then off: a server of its own each round), driven by
``wrk`` (one thread, keep-alive connections, ``bench/wrk_post.lua``) with one-row JSON
table requests, and the server's CPU per request (``bench/results/batching_http.md``);
``--client raw`` drives it with ``bench.serving``'s load generator instead of ``wrk``
(Debian's package; against the batched server at 64 clients both cost about the same
client CPU a request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import timing

RESULTS = Path(__file__).parent / "results" / "batching.md"
CLIENTS = (1, 8, 64)


async def closed_loop(model: Any, requests: list[Any], clients: int, seconds: float) -> Any:
    """Every client sends its next request when the last is answered; latencies in s."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(first: int) -> None:
        k = first
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await model.infer(requests[k % len(requests)], parameters={}, outputs=None)
            latencies.append(time.perf_counter() - started)
            k += clients

    await asyncio.gather(*(client(j) for j in range(clients)))
    return latencies


def child(batching: bool, clients: int, seconds: float) -> dict[str, Any]:
    from willump_mlir.serve.repository import CONFIG, ModelConfig, Repository

    root = Path(tempfile.mkdtemp())
    test = repository(root, batching)
    requests = [{c: test[c].to_numpy()[i : i + 1] for c in test} for i in range(200)]
    sizes: list[int] = []

    async def main() -> list[float]:
        repository = Repository(root, on_batch=lambda r: sizes.append(r.requests))
        while not repository.ready():
            await asyncio.sleep(0.01)
        model = repository.get("m")
        await closed_loop(model, requests, clients, 0.5)  # warm up
        sizes.clear()
        latencies = await closed_loop(model, requests, clients, seconds)
        await repository.close()
        return latencies

    latencies = _run(main())
    objective = ModelConfig.read(root / "m" / CONFIG).max_latency_ms
    return {"latencies": latencies, "seconds": seconds, "batches": sizes, "objective_ms": objective}


def repository(root: Path, batching: bool) -> Any:
    """lending_club compiled and saved as model ``m`` of a repository at ``root``, its config
    the defaults but ``batching`` (and the wait budget lifted); the test rows."""
    import willump_mlir as wm
    from willump_mlir.serve.repository import CONFIG
    from willump_mlir.workloads import lending_club as lc

    work = lc.build()
    compiled = wm.compile(lc.score, example=(work.test.iloc[:200], work.model))
    compiled.save(root / "m" / "1")
    config = {"max_wait_ms": 1e6} | ({} if batching else {"batching": False})
    (root / "m" / CONFIG).write_text(json.dumps(config), encoding="utf-8")
    return work.test


def http_rounds(args: argparse.Namespace) -> None:
    """Batching on and off over HTTP (``--http``): see the module docstring."""
    import pickle

    from bench import serving
    from willump_mlir.serve.repository import CONFIG, ModelConfig

    rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
    load = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        test = None
        for batching in ("on", "off"):
            test = repository(work / batching / "repository", batching == "on")
        assert test is not None
        for _ in range(args.rounds):
            for batching in ("on", "off"):
                folder = work / batching
                port = serving.free_port()
                log = folder / "server.log"
                willump = Path(sys.executable).with_name("willump")
                server = serving._spawn(
                    [str(willump), "serve", str(folder / "repository"), "--port", str(port),
                     "--log-level", "warning"], log,
                )  # fmt: skip
                try:
                    serving.wait_ready(server, port, 120, log)
                    messages = []
                    for k in range(serving.DISTINCT_REQUESTS):
                        frame = test.iloc[serving.request_rows(test, k, 1)]
                        body, headers = serving.encode_json(frame, None)
                        messages.append(serving.http_message(port, "/v2/models/m/infer", body,
                                                             headers))  # fmt: skip
                    requests = folder / "requests.pkl"
                    requests.write_bytes(pickle.dumps(messages))
                    for clients in CLIENTS:
                        load.append(os.getloadavg()[0])
                        if args.client == "wrk":
                            result = drive_wrk(messages, port, clients, args.seconds, server.pid)
                        else:
                            result = serving.drive(requests, port, clients, 1, 1.0, args.seconds,
                                                   "raw", server.pid)  # fmt: skip
                        rows.setdefault((batching, clients), []).append(result)
                        print(batching, clients, f"{result['rps']:,.0f} req/s",
                              f"{result['server_cpu_us_per_req']:.0f} us/req", flush=True)
                finally:
                    serving.stop(server)
    lines = [
        "# Adaptive batching over HTTP (lending_club, one-row JSON requests)",
        "",
        f"`python -m bench.batching --http --seconds {args.seconds} --rounds {args.rounds}`, "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load average "
        f"{min(load):.1f}-{max(load):.1f}. `willump serve` (access log off) with batching on "
        "and off, rounds alternating, each its own server process; the load generator on the "
        f"same cores: {CLIENT_NAMES[args.client]}. Cells: median over rounds; server CPU is the "
        "server process's CPU time per answered request; others: the cores the rest of the "
        "machine used meanwhile.",
        "",
        "| clients | batching | requests/s | p50 ms | p99 ms | p99 inside the objective | "
        "server CPU µs/req | client CPU µs/req | others (cores) | non-200 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    objective = ModelConfig.read(work / "on" / "repository" / "m" / CONFIG).max_latency_ms
    ratios = []
    for clients in CLIENTS:
        for batching in ("on", "off"):
            results = rows[(batching, clients)]

            def median(key: str, results: list[dict[str, Any]] = results) -> float:
                return timing.median([r[key] for r in results])

            bad = sum(n for r in results for code, n in r["statuses"].items() if code != "200")
            p99 = max(r["p99_ms"] for r in results)
            inside = f"{'yes' if p99 <= objective else 'no'} (worst round {p99:.1f} ms)"
            lines.append(
                f"| {clients} | {batching} | {median('rps'):,.0f} | {median('p50_ms'):.2f} | "
                f"{median('p99_ms'):.2f} | {inside} | {median('server_cpu_us_per_req'):.0f} | "
                f"{median('client_cpu_us_per_req'):.0f} | {median('others_cores'):.2f} | {bad} |"
            )
        on, off = (timing.median([r["rps"] for r in rows[(b, clients)]]) for b in ("on", "off"))
        ratios.append(f"{clients}: {on / off:.2f}x")
    lines += ["", f"Requests/s with batching on over off, by clients: {', '.join(ratios)}. "
              f"The objective: `max_latency_ms` {objective:g} (the model's config)."]
    out = RESULTS.with_name("batching_http.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


CLIENT_NAMES = {
    "raw": "`bench.serving`'s load generator (1 process, raw asyncio on uvloop, keep-alive)",
    "wrk": "`wrk` (1 thread, keep-alive, `bench/wrk_post.lua` cycling the same requests; "
    "1 s of warm-up before each measured run)",
}
WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")


def drive_wrk(
    messages: list[bytes], port: int, clients: int, seconds: float, server_pgid: int
) -> dict[str, Any]:
    """One closed-loop run of ``wrk`` (``--client wrk``, latencies measured in C) with
    ``clients`` connections cycling
    ``messages``: the keys of ``serving.drive``'s result that the table shows."""
    import resource

    from bench import serving

    with tempfile.TemporaryDirectory() as scratch:
        for k, message in enumerate(messages):
            (Path(scratch) / f"{k}.http").write_bytes(message)
        command = ["wrk", "-t1", f"-c{clients}", "--timeout", "10s", "-s", str(WRK_SCRIPT),
                   f"http://127.0.0.1:{port}/", "--", scratch, str(len(messages))]  # fmt: skip
        subprocess.run([command[0], "-d1", *command[1:]], check=True, capture_output=True)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0, total0 = serving.machine_busy()
        server0 = serving.process_cpu(server_pgid)
        out = subprocess.run([command[0], f"-d{seconds:g}", *command[1:]], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        server1 = serving.process_cpu(server_pgid)
        busy1, total1 = serving.machine_busy()
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = json.loads(out.split("WRK ", 1)[1].splitlines()[0])
    wall = found["duration_us"] / 1e6
    answered = max(1, found["requests"] - found["non_2xx"])
    server = sum(serving.cpu_by_name(server0, server1).values())
    client = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    cores = (busy1 - busy0) / max(total1 - total0, 1e-9) * (os.cpu_count() or 1)
    return {
        "rps": found["requests"] / wall,
        "statuses": {"200": found["requests"] - found["non_2xx"], "other": found["non_2xx"],
                     "socket errors": found["socket_errors"]},  # fmt: skip
        "p50_ms": found["p50_us"] / 1e3,
        "p99_ms": found["p99_us"] / 1e3,
        "server_cpu_us_per_req": server / answered * 1e6,
        "client_cpu_us_per_req": client / answered * 1e6,
        "others_cores": max(0.0, cores - (server + client) / wall),
    }


def _run(main: Any) -> Any:
    """``main`` run to completion on the event loop ``willump serve`` uses."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _rate(records: list[dict[str, Any]]) -> float:
    """Requests/s over every round of one setting."""
    return sum(len(r["latencies"]) for r in records) / sum(r["seconds"] for r in records)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.batching", description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", nargs=3, metavar=("BATCHING", "CLIENTS", "OUT"))
    ap.add_argument("--http", action="store_true", help="over HTTP: willump serve")
    ap.add_argument("--client", choices=("wrk", "raw"), default="wrk",
                    help="--http's load generator: wrk (Debian's package) or bench.serving's")
    args = ap.parse_args(argv)
    if args.http:
        if args.client == "wrk" and shutil.which("wrk") is None:
            ap.error("--client wrk: no `wrk` on PATH (Debian: apt-get install wrk), "
                     "or use --client raw")
        http_rounds(args)
        return
    if args.child:
        record = child(args.child[0] == "on", int(args.child[1]), args.seconds)
        # a file, not stdout: uvloop may leave a pipe non-blocking and a large write cut short
        Path(args.child[2]).write_text(json.dumps(record), encoding="utf-8")
        return
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    load = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.rounds):
            for clients in CLIENTS:
                for batching in ("on", "off"):
                    load.append(os.getloadavg()[0])
                    out = Path(scratch) / f"{batching}-{clients}.json"
                    subprocess.run(
                        [sys.executable, "-m", "bench.batching", "--child", batching,
                         str(clients), str(out), "--seconds", str(args.seconds)],
                        check=True, timeout=900,
                    )  # fmt: skip
                    record = json.loads(out.read_text(encoding="utf-8"))
                    runs.setdefault((batching, clients), []).append(record)
    lines = [
        "# Adaptive batching in process (lending_club, one-row requests)",
        "",
        f"`python -m bench.batching --seconds {args.seconds} --rounds {args.rounds}`, "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load average "
        f"{min(load):.1f}-{max(load):.1f}. `ModelVersion.infer` on decoded requests, no HTTP: "
        "the server's model side only. Each row: every round's requests together.",
        "",
        "| clients | batching | requests/s | p50 ms | p99 ms | p99 inside the objective | "
        "requests per batch (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for clients in CLIENTS:
        for batching in ("on", "off"):
            records = runs[(batching, clients)]
            latencies = [s * 1e3 for r in records for s in r["latencies"]]
            rate = _rate(records)
            batches = [b for r in records for b in r["batches"]]
            p99 = timing.percentile(latencies, 99)
            objective = records[0]["objective_ms"]
            inside = f"{'yes' if p99 <= objective else 'no'} ({objective:g} ms)"
            lines.append(
                f"| {clients} | {batching} | {rate:,.0f} | {timing.median(latencies):.2f} | "
                f"{p99:.2f} | {inside} | {sum(batches) / len(batches):.1f} |"
            )
        on, off = (runs[(b, clients)] for b in ("on", "off"))
        ratios.append(f"{clients}: {_rate(on) / _rate(off):.1f}x")
    lines += ["", f"Requests/s with batching on over off, by clients: {', '.join(ratios)}."]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
