"""Serving benchmark (issue 14, on demand): the lending_club pipeline behind HTTP servers.

    python -m bench.serving                          # every server, 3 repeats -> bench/results/
    python -m bench.serving --quick                  # 1 repeat, 2 s windows
    python -m bench.serving --servers mlserver,ray-serve --concurrency 1,64
    python -m bench.serving --calibrate              # the load generator against a trivial server

Servers, each started as its own process tree on 127.0.0.1 and stopped by its process group:

- ``willump-serve``: ``willump serve REPOSITORY`` on the compiled pipeline (JSON and binary);
- ``willump-serve-2w``: the same with ``--workers 2`` (a parent and 2 worker processes);
- ``mlserver``: MLServer with its scikit-learn runtime on the fitted Pipeline, adaptive
  batching on, in its own virtual environment ``bench/.venvs/mlserver`` created on first use
  (its pins clash with ours); JSON only (its REST server has no binary tensor extension);
- ``ray-serve``: Ray Serve, ``@serve.batch``, the fitted Pipeline (``bench.serving_ray``);
- ``ray-serve+willump``: the same Ray Serve app calling the compiled pipeline, so that its
  difference from ``willump-serve`` is Ray Serve's own cost (issue 15).

The load generator (``bench.serving_client``) is a closed loop of keep-alive connections in
separate processes; every server gets the same pre-encoded KServe V2 requests (a table
request, ``content_type: pd``: one input per column, strings as BYTES) of 1 or 100 real test
rows. One answer per server and request shape is checked against scikit-learn first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pickle
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.serving_ray import frame_from_request

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
MLSERVER_VENV = REPO / "bench" / ".venvs" / "mlserver"
# uvloop 0.22 made get_event_loop() raise outside a loop: MLServer 1.7.1's workers then die
MLSERVER_PINS = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22")
MODEL = "lending_club"
INFER_PATH = f"/v2/models/{MODEL}/infer"
BATCH = {"max_batch_size": 64, "max_batch_time_s": 0.005}  # the peers' batching knobs
DISTINCT_REQUESTS = 32


# --------------------------------------------------------------------------------------------
# Requests: KServe V2 table requests, JSON or with the binary tensor extension


def _columns(frame: pd.DataFrame) -> list[tuple[str, str, Any]]:
    """``(name, datatype, values)`` per column: float columns FP64, the rest BYTES (str)."""
    out = []
    for name in frame.columns:
        col = frame[name]
        if col.dtype == np.float64:
            out.append((name, "FP64", col.to_numpy()))
        else:
            out.append((name, "BYTES", [str(v).encode() for v in col]))
    return out


def encode_json(frame: pd.DataFrame, outputs: list[str] | None) -> tuple[bytes, dict[str, str]]:
    """A JSON table request for ``frame``: its body and extra headers."""
    inputs = []
    for name, datatype, values in _columns(frame):
        spec: dict[str, Any] = {"name": name, "shape": [len(frame)], "datatype": datatype}
        if datatype == "BYTES":
            spec["parameters"] = {"content_type": "str"}
            spec["data"] = [v.decode() for v in values]
        else:
            spec["data"] = values.tolist()
        inputs.append(spec)
    request: dict[str, Any] = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    if outputs:
        request["outputs"] = [{"name": n} for n in outputs]
    return json.dumps(request).encode(), {"Content-Type": "application/json"}


def encode_binary(frame: pd.DataFrame, outputs: list[str] | None) -> tuple[bytes, dict[str, str]]:
    """A binary-extension table request: JSON header, then the raw little-endian tensors."""
    inputs, raws = [], []
    for name, datatype, values in _columns(frame):
        if datatype == "BYTES":
            raw = b"".join(struct.pack("<I", len(v)) + v for v in values)
            params: dict[str, Any] = {"content_type": "str", "binary_data_size": len(raw)}
        else:
            raw = np.ascontiguousarray(values, dtype="<f8").tobytes()
            params = {"binary_data_size": len(raw)}
        inputs.append(
            {"name": name, "shape": [len(frame)], "datatype": datatype, "parameters": params}
        )
        raws.append(raw)
    request: dict[str, Any] = {
        "parameters": {"content_type": "pd", "binary_data_output": True},
        "inputs": inputs,
    }
    if outputs:
        request["outputs"] = [{"name": n, "parameters": {"binary_data": True}} for n in outputs]
    header = json.dumps(request).encode()
    return header + b"".join(raws), {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(header)),
    }


ENCODERS: dict[str, Callable[..., tuple[bytes, dict[str, str]]]] = {
    "json": encode_json,
    "binary": encode_binary,
}


def http_message(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A complete HTTP/1.1 keep-alive POST, as the load generator sends it."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def decode_scores(body: bytes, headers: dict[str, str]) -> np.ndarray:
    """P(bad) from a V2 response (JSON or binary): the first output, last column if 2-D."""
    header_len = headers.get("inference-header-content-length")
    head = json.loads(body[: int(header_len)] if header_len else body)
    out = head["outputs"][0]
    if "data" in out:
        values = np.asarray(out["data"], dtype=np.float64)
    else:
        size = out["parameters"]["binary_data_size"]
        start = int(header_len)
        dtype = {"FP64": "<f8", "FP32": "<f4"}[out["datatype"]]
        values = np.frombuffer(body[start : start + size], dtype=dtype).astype(np.float64)
    values = values.reshape(out["shape"])
    return values[:, -1] if values.ndim == 2 else values


# --------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    """How to start one server and talk to it."""

    name: str
    encodings: tuple[str, ...]
    outputs: list[str] | None = None  # the V2 ``outputs`` the request asks for
    note: str = ""
    start: Callable[[Path, int, Path], subprocess.Popen[bytes]] | None = None

    @property
    def log(self) -> str:
        """The server's log file name in the work directory."""
        return self.name.replace("+", "-") + ".log"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (asked of the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(
    cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def _start_trivial(work: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return _spawn([sys.executable, "-m", "bench.serving_trivial", str(port)], log)


def _willump_starter(*extra: str) -> Callable[[Path, int, Path], subprocess.Popen[bytes]]:
    def start(work: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
        willump = Path(sys.executable).with_name("willump")
        cmd = [str(willump), "serve", str(work / "repository"), "--port", str(port), *extra]
        return _spawn(cmd, log)

    return start


def _start_mlserver(work: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    python = mlserver_python()
    root = work / "mlserver"
    settings = {
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "host": "127.0.0.1",
        "debug": False,
    }
    (root / "settings.json").write_text(json.dumps(settings))
    mlserver = Path(python).with_name("mlserver")
    return _spawn([str(mlserver), "start", str(root)], log, cwd=root)


def _ray_starter(model: str) -> Callable[[Path, int, Path], subprocess.Popen[bytes]]:
    def start(work: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
        cmd = [
            sys.executable,
            "-m",
            "bench.serving_ray",
            "--port",
            str(port),
            "--work",
            str(work),
            "--model",
            model,
        ]
        return _spawn(cmd, log, env={"RAY_USAGE_STATS_ENABLED": "0"})

    return start


SERVERS = {
    "trivial": Server(
        "trivial",
        ("json", "binary"),
        start=_start_trivial,
        note="fixed answer, no model: the load generator's ceiling",
    ),
    "willump-serve": Server(
        "willump-serve",
        ("json", "binary"),
        start=_willump_starter(),
        note="willump serve, compiled pipeline, its default batching; 1 process",
    ),
    "willump-serve-2w": Server(
        "willump-serve-2w",
        ("json", "binary"),
        start=_willump_starter("--workers", "2"),
        note="the same with --workers 2: 3 processes, a parent (idle) and 2 workers sharing "
        "the port, each with its own batching",
    ),
    "mlserver": Server(
        "mlserver",
        ("json",),
        outputs=["predict_proba"],
        start=_start_mlserver,
        note="MLServer 1.7.1, mlserver-sklearn, max_batch_size 64, "
        "max_batch_time 5 ms, default settings otherwise: 2 processes, its HTTP server and one "
        "parallel inference worker",
    ),
    "ray-serve": Server(
        "ray-serve",
        ("json",),
        start=_ray_starter("sklearn"),
        note="Ray Serve, 1 replica, @serve.batch(64, 5 ms), the sklearn Pipeline (processes: "
        "Ray's, its HTTP proxy actor, the replica)",
    ),
    "ray-serve+willump": Server(
        "ray-serve+willump",
        ("json",),
        start=_ray_starter("willump"),
        note="the same Ray Serve app calling the compiled pipeline",
    ),
}


def mlserver_python(timeout: float = 1200.0) -> str:
    """MLServer's own environment (``bench/.venvs/mlserver``), created on first use.

    ``python -m venv`` and ``pip install mlserver mlserver-sklearn`` with this environment's
    scikit-learn version, so the pickled Pipeline loads unchanged.
    """
    import sklearn

    python = MLSERVER_VENV / "bin" / "python"
    stamp = MLSERVER_VENV / ".installed"
    if stamp.exists():
        return str(python)
    MLSERVER_VENV.parent.mkdir(parents=True, exist_ok=True)
    (MLSERVER_VENV.parent / ".gitignore").write_text("*\n")  # environments are never committed
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(MLSERVER_VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            *MLSERVER_PINS,
            f"scikit-learn=={sklearn.__version__}",
        ],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = " / ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"could not install MLServer: {tail}")
    stamp.touch()
    return str(python)


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid or int(fields[3]) == pgid:  # pgrp or session
                pids.append(int(entry.name))
    return pids


def process_cpu(pgid: int) -> dict[int, tuple[str, float]]:
    """``pid -> (name, user + system CPU seconds)`` of every live process in the session
    ``pgid`` started (the name as /proc shows it, e.g. ``ray::ProxyActor``)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in _group_pids(pgid):
        try:
            name, rest = Path(f"/proc/{pid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        out[pid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_by_name(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent between two ``process_cpu`` samples, summed per process name."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        spent[name] = spent.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    return spent


def machine_busy() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the server's session (its own process group), then SIGKILL what is left."""
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.time() + 5
    while time.time() < deadline:
        left = _group_pids(pgid)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    proc.wait(timeout=5)


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float, log: Path) -> None:
    """Poll ``GET /v2/health/ready`` until 200; raise with the log's tail if it never comes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v2/health/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise RuntimeError(f"server not ready after {timeout:.0f} s (exit {proc.poll()}): {tail}")


def post(port: int, message_body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict]:
    """One request through ``http.client``: ``(status, body, lower-cased headers)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", INFER_PATH, body=message_body, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}


# --------------------------------------------------------------------------------------------
# The work directory: the model repository, MLServer's model folder, the requests


@dataclass
class Prepared:
    """The saved models and the rows; ``pipeline_us`` is the in-process call cost."""

    work: Path
    test: pd.DataFrame
    expected: np.ndarray
    pipeline_us: dict[str, float] = field(default_factory=dict)


def prepare(work: Path) -> Prepared:
    """Fit lending_club, compile and save it, dump the Pipeline for MLServer and Ray."""
    import joblib

    import willump_mlir as wm
    from willump_mlir.workloads import lending_club as lc

    data = lc.build()
    compiled = wm.compile(lc.score, example=(data.test.iloc[:200], data.model))
    version_dir = work / "repository" / MODEL / "1"
    if version_dir.exists():
        shutil.rmtree(version_dir)
    version_dir.parent.mkdir(parents=True, exist_ok=True)
    compiled.save(version_dir)
    model_dir = work / "mlserver" / MODEL
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(data.model, model_dir / "model.joblib")
    (model_dir / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "max_batch_size": BATCH["max_batch_size"],
                "max_batch_time": BATCH["max_batch_time_s"],
                "parameters": {"uri": "./model.joblib", "version": "1"},
            }
        )
    )
    prepared = Prepared(work, data.test, lc.score(data.test, data.model))
    loaded = wm.load(version_dir)
    for rows in (1, 100):
        frame = data.test.iloc[:rows]
        body = encode_json(frame, None)[0]
        costs = {
            "willump": (lambda frame=frame: loaded(frame), 300),
            "sklearn": (lambda frame=frame: data.model.predict_proba(frame), 100),
            # what the Ray Serve app does with a request before the model (bench.serving_ray)
            "ray_app_decode": (lambda body=body: frame_from_request(json.loads(body)), 300),
        }
        for name, (call, n) in costs.items():
            call()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            prepared.pipeline_us[f"{name}_{rows}"] = float(np.median(times) * 1e6)
    return prepared


def request_rows(test: pd.DataFrame, k: int, rows: int) -> np.ndarray:
    """The row positions of distinct request ``k`` of ``rows`` rows."""
    return (np.arange(rows) + k * rows) % len(test)


def write_requests(prep: Prepared, server: Server, port: int, encoding: str, rows: int) -> Path:
    """Pickle the distinct pre-encoded HTTP messages of one configuration for the clients."""
    messages = []
    for k in range(DISTINCT_REQUESTS):
        frame = prep.test.iloc[request_rows(prep.test, k, rows)]
        body, headers = ENCODERS[encoding](frame, server.outputs)
        messages.append(http_message(port, INFER_PATH, body, headers))
    path = prep.work / f"requests-{server.name}-{encoding}-{rows}.pkl"
    path.write_bytes(pickle.dumps(messages))
    return path


def verify(prep: Prepared, server: Server, port: int, encoding: str, rows: int) -> float:
    """Send distinct request 1 once; return max |score - scikit-learn| (raises on errors)."""
    idx = request_rows(prep.test, 1, rows)
    body, headers = ENCODERS[encoding](prep.test.iloc[idx], server.outputs)
    status, resp, resp_headers = post(port, body, headers)
    if status != 200:
        raise RuntimeError(f"{server.name} {encoding} {rows} rows: HTTP {status}: {resp[:300]!r}")
    if server.name == "trivial":
        return 0.0
    return float(np.max(np.abs(decode_scores(resp, resp_headers) - prep.expected[idx])))


# --------------------------------------------------------------------------------------------
# Driving one configuration


def drive(
    requests: Path,
    port: int,
    concurrency: int,
    processes: int,
    warmup: float,
    duration: float,
    engine: str,
    server_pgid: int | None,
) -> dict[str, Any]:
    """Run the load generator (``processes`` client processes) once; merge their results."""
    processes = max(1, min(processes, concurrency))
    split = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    start_at = time.time() + 1.5
    outs, procs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, connections in enumerate(split):
            out = Path(tmp) / f"client{i}.json"
            outs.append(out)
            cmd = [
                sys.executable,
                "-m",
                "bench.serving_client",
                "--port",
                str(port),
                "--requests",
                str(requests),
                "--connections",
                str(connections),
                "--warmup",
                str(warmup),
                "--duration",
                str(duration),
                "--start-at",
                str(start_at),
                "--engine",
                engine,
                "--out",
                str(out),
            ]
            procs.append(subprocess.Popen(cmd, cwd=REPO))
        time.sleep(max(0.0, start_at + warmup - time.time()))
        busy0, total0 = machine_busy()
        server0 = process_cpu(server_pgid) if server_pgid else {}
        time.sleep(duration)
        busy1, total1 = machine_busy()
        server1 = process_cpu(server_pgid) if server_pgid else {}
        load1 = os.getloadavg()[0]
        for proc in procs:
            proc.wait(timeout=warmup + duration + 120)
        parts = [json.loads(out.read_text()) for out in outs]
    latencies = np.concatenate([np.asarray(p["latencies_us"], dtype=np.float64) for p in parts])
    statuses: dict[str, int] = {}
    for part in parts:
        for code, n in part["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    done = int(statuses.get("200", 0))
    cores = (total1 - total0) and (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1)
    client_cpu = sum(p["cpu_s"] for p in parts)
    by_name = cpu_by_name(server0, server1)
    server_cpu = sum(by_name.values())
    return {
        "rps": len(latencies) / duration,
        "ok": done,
        "statuses": statuses,
        "p50_ms": float(np.percentile(latencies, 50) / 1e3) if len(latencies) else float("nan"),
        "p99_ms": float(np.percentile(latencies, 99) / 1e3) if len(latencies) else float("nan"),
        "client_cpu_us_per_req": client_cpu / max(1, sum(p["requests_sent"] for p in parts)) * 1e6,
        "server_cpu_us_per_req": server_cpu / max(1, len(latencies)) * 1e6,
        "server_cores": server_cpu / duration,
        "server_cpu_us_per_req_by_process": {
            name: spent / max(1, len(latencies)) * 1e6 for name, spent in by_name.items()
        },
        "machine_busy_cores": cores,
        # what the rest of the machine used: busy cores minus ours (clients over their run)
        "others_cores": max(
            0.0, cores - server_cpu / duration - client_cpu / max(p["wall_s"] for p in parts)
        ),
        "loadavg_1m": load1,
        "errors": [e for p in parts for e in p["errors"]][:3],
    }


def run_server(
    prep: Prepared, server: Server, args: argparse.Namespace, results: list[dict[str, Any]]
) -> None:
    """Start one server, verify it, run its configurations ``--repeats`` times, stop it."""
    assert server.start is not None
    port = free_port()
    log = prep.work / server.log
    t0 = time.perf_counter()
    try:
        proc = server.start(prep.work, port, log)
    except Exception as exc:  # noqa: BLE001 - a server that cannot start is a row, not a crash
        results.append({"server": server.name, "failure": f"start: {exc}"})
        return
    try:
        wait_ready(proc, port, args.start_timeout, log)
        start_s = time.perf_counter() - t0
        print(f"{server.name}: ready in {start_s:.1f} s", flush=True)
        for encoding in server.encodings:
            if encoding not in args.encodings:
                continue
            for rows in args.rows:
                try:
                    diff = verify(prep, server, port, encoding, rows)
                except (RuntimeError, OSError, KeyError, ValueError) as exc:
                    results.append(
                        {
                            "server": server.name,
                            "encoding": encoding,
                            "rows": rows,
                            "failure": f"verify: {exc}",
                        }
                    )
                    continue
                requests = write_requests(prep, server, port, encoding, rows)
                for concurrency in args.concurrency:
                    for repeat in range(args.repeats):
                        r = drive(
                            requests,
                            port,
                            concurrency,
                            args.client_processes,
                            args.warmup,
                            args.duration,
                            args.engine,
                            proc.pid,
                        )
                        r.update(
                            server=server.name,
                            encoding=encoding,
                            rows=rows,
                            concurrency=concurrency,
                            repeat=repeat,
                            max_abs_diff=diff,
                            start_s=start_s,
                        )
                        results.append(r)
                        print(
                            f"  {encoding:6s} rows={rows:3d} c={concurrency:2d} #{repeat}: "
                            f"{r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                            f"p99 {r['p99_ms']:7.2f} ms  non-200 "
                            f"{sum(v for k, v in r['statuses'].items() if k != '200')}  "
                            f"others {r['others_cores']:.2f} cores",
                            flush=True,
                        )
    except RuntimeError as exc:
        results.append({"server": server.name, "failure": str(exc)})
    finally:
        for r in results:
            if r["server"] == server.name and "failure" in r:
                print(f"  FAILED: {r['failure'][:500]}", flush=True)
        stop(proc)


def calibrate(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """The load generator against the trivial server: engines x client processes."""
    server = SERVERS["trivial"]
    assert server.start is not None
    port = free_port()
    proc = server.start(work, port, work / server.log)
    rows: list[dict[str, Any]] = []
    try:
        wait_ready_any(proc, port)
        frame = _calibration_frame()
        for encoding in ("json",):
            messages = []
            for rows_n in (1, 100):
                body, headers = ENCODERS[encoding](frame.iloc[:rows_n], None)
                messages.append(http_message(port, INFER_PATH, body, headers))
            for rows_n, message in zip((1, 100), messages, strict=True):
                path = work / f"calibrate-{rows_n}.pkl"
                path.write_bytes(pickle.dumps([message]))
                for engine in ("raw", "aiohttp"):
                    for concurrency in (1, 8, 64):
                        for procs in sorted({1, 2} if concurrency > 1 else {1}):
                            r = drive(
                                path,
                                port,
                                concurrency,
                                procs,
                                args.warmup,
                                args.duration,
                                engine,
                                proc.pid,
                            )
                            r.update(
                                engine=engine, rows=rows_n, concurrency=concurrency, processes=procs
                            )
                            rows.append(r)
                            print(
                                f"  {engine:8s} rows={rows_n:3d} c={concurrency:2d} "
                                f"procs={procs}: {r['rps']:8.0f} req/s p50 {r['p50_ms']:.3f} "
                                f"p99 {r['p99_ms']:.3f} ms client {r['client_cpu_us_per_req']:.0f}"
                                f" us/req server {r['server_cpu_us_per_req']:.0f} us/req",
                                flush=True,
                            )
    finally:
        stop(proc)
    return rows


def _calibration_frame() -> pd.DataFrame:
    from willump_mlir.workloads import lending_club as lc

    return lc.load_frame()[lc.NUMERIC + lc.CATEGORICAL].iloc[:100]


def wait_ready_any(proc: subprocess.Popen[bytes], port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"trivial server did not start (exit {proc.poll()})")


def main(argv: list[str] | None = None) -> int:
    """Run the serving benchmark and write ``serving.{json,md,png}``."""
    from bench import serving_report

    parser = argparse.ArgumentParser(description="Serving benchmark (issue 14)")
    parser.add_argument(
        "--servers", default="willump-serve,willump-serve-2w,mlserver,ray-serve,ray-serve+willump"
    )
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--encodings", default="json,binary")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--engine", choices=("raw", "aiohttp"), default="raw")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="load generator processes (1 by --calibrate: a second one "
        "competes with the server for the 2 cores)",
    )
    parser.add_argument("--start-timeout", type=float, default=180.0)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 0.5 s + 2 s windows")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the load generator against a trivial server",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other servers' results of an earlier serving.json in --out",
    )
    parser.add_argument("--work", default=str(REPO / "bench" / ".work" / "serving"))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup, args.duration = 1, 0.5, 2.0
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.rows = [int(r) for r in args.rows.split(",")]
    args.encodings = args.encodings.split(",")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.calibrate:
        rows = calibrate(args, work)
        (out / "serving_calibration.json").write_text(json.dumps(rows, indent=1))
        serving_report.write_calibration(rows, out / "serving_calibration.md")
        return 0
    unknown = [s for s in args.servers.split(",") if s not in SERVERS]
    if unknown:
        parser.error(f"unknown --servers {unknown}; known: {', '.join(SERVERS)}")
    prep = prepare(work)
    print(f"in-process pipeline: {prep.pipeline_us}", flush=True)
    results: list[dict[str, Any]] = []
    names = args.servers.split(",")
    previous = json.loads((out / "serving.json").read_text()) \
        if (out / "serving.json").exists() else None  # fmt: skip
    if args.merge and previous is not None:
        results = [r for r in previous["results"] if r["server"] not in names]
    for name in names:
        run_server(prep, SERVERS[name], args, results)
    meta = {
        "pipeline_us": prep.pipeline_us,
        "servers": {n: SERVERS[n].note for n in SERVERS},
        "args": {k: v for k, v in vars(args).items() if k not in ("work", "out")},
        "cpus": os.cpu_count(),
        "batch": BATCH,
        "kept": sorted({r["server"] for r in results} - set(names)),
        # the machine then: its in-process references against this run's (serving_report)
        "previous_pipeline_us": previous["meta"].get("pipeline_us") if previous else None,
    }
    (out / "serving.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    serving_report.write(meta, results, out / "serving.md", out / "serving.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
