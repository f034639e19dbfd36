"""Two Ray nodes on loopback: ``willump predict``'s job (Parquet rows -> ``wm.ray.predict``
-> Parquet) on one node and on two, rows/s with medians and spread over repeats.

    python -m bench.ray_cluster                       # 10M lending_club rows, 3 repeats
    python -m bench.ray_cluster --rows 2000000 --repeats 3

The script starts a head on 127.0.0.2 and a second node on 127.0.0.3 (``ray start --block``
under ``timeout``, 1 CPU each, their own ports, temp directory and auth token, so no other
Ray on the machine sees them or is seen), and stops them by process group at the end: never
``ray stop``. The rows are the bundled lending_club test rows resampled with fixed seeds,
written once to ``bench/.work/ray_rows_<rows>/``. First the head alone runs the job
(a warm-up round, then the repeats), then the second node joins and the same job runs on
both. (Pinning tasks to the head with a node affinity instead kept Ray Data from fusing
read, score and write into one task, and the one-node job then ran 4x slower than it
should.) Each job's CPU seconds are counted per process: the task workers, the driver
(this process) and Ray's own processes (raylets, GCS, object stores, agents). Writes
``bench/results/ray.md``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench import timing
from bench.report import cpu_model
from bench.workloads import tile_rows

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work"
RESULTS = REPO / "bench" / "results"
HEAD, SECOND = "127.0.0.2", "127.0.0.3"
START_TIMEOUT = 90  # seconds for a node to come up
NODE_LIFETIME = 3 * 3600  # ``timeout`` ends a node that outlives the script


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def write_rows(rows: int, files: int) -> Path:
    """``rows`` lending_club feature rows in ``files`` Parquet files (made once)."""
    from willump_mlir.workloads import lending_club

    root = WORK / f"ray_rows_{rows}"
    done = root / "_complete"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    test = lending_club.build(0).test
    per_file = -(-rows // files)
    for k in range(files):
        count = min(per_file, rows - k * per_file)
        table = pa.Table.from_pandas(tile_rows(test, count, seed=k), preserve_index=False)
        pq.write_table(table, root / f"part-{k:04d}.parquet")
    done.write_text(str(rows))
    return root


class Node:
    """One ``ray start --block`` process group of ours (stopped by its id)."""

    def __init__(self, ip: str, env: dict[str, str], head: str | None, store_mb: int):
        ports = {name: free_port(ip) for name in (
            "--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
            "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port",
        )}  # fmt: skip
        # below Linux's ephemeral range (32768+), where free_port's ports come from: the
        # two overlapping made Ray refuse to start (a worker port taken by the GCS port)
        low = 10000 + secrets.randbelow(22000)
        command = [
            "timeout", str(NODE_LIFETIME), str(Path(sys.executable).parent / "ray"), "start",
            "--block", f"--node-ip-address={ip}", "--num-cpus=1",
            f"--object-store-memory={store_mb * 1024**2}", f"--min-worker-port={low}",
            f"--max-worker-port={low + 200}", "--disable-usage-stats",
            *(f"{k}={v}" for k, v in ports.items()),
        ]  # fmt: skip
        if head is None:
            self.port = free_port(ip)
            command += ["--head", f"--port={self.port}", "--include-dashboard=false"]
        else:
            command += [f"--address={head}"]
        self.log = open(Path(env["RAY_TMPDIR"]) / f"node-{ip}.log", "w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        """SIGTERM to our process group (``ray start --block`` stops what it started)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def wait_for_nodes(count: int) -> list[dict[str, Any]]:
    import ray

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        alive = [n for n in ray.nodes() if n["Alive"]]
        if len(alive) >= count:
            return alive
        time.sleep(0.5)
    raise TimeoutError(f"{count} Ray node(s) not up after {START_TIMEOUT} s")


def wait_for_port(host: str, port: int, node: Node) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and node.process.poll() is None:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the Ray head did not listen on {host}:{port} (exit code "
                       f"{node.process.poll()}, log {node.log.name})")  # fmt: skip


def cpu_times() -> tuple[int, int]:
    """The machine's (busy, total) CPU jiffies so far (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def job(source: Path, pipeline: Any, destination: Path) -> float:
    """Seconds of ``willump predict --ray``'s job (``wm.ray.score_files``): read ->
    ``wm.ray.predict`` -> write, which Ray fuses into one task per file."""
    import willump_mlir as wm

    started = time.perf_counter()
    wm.ray.score_files(str(source), pipeline, str(destination))
    return time.perf_counter() - started


ROLES = ("task workers", "driver", "Ray's own processes")


def process_cpu(nodes: list[Node]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of this process (the driver) and every process of our nodes, by
    PID, with its role (``ROLES``): a worker that ran tasks is named ``ray::...`` by Ray,
    unlike its actors, agents and spill workers."""
    import psutil

    driver = psutil.Process()
    result = {}
    for process in [driver, *(psutil.Process(n.process.pid) for n in nodes)]:
        for member in [process, *process.children(recursive=True)]:
            try:
                name, times = " ".join(member.cmdline()[:1]), member.cpu_times()
            except psutil.Error:  # ended meanwhile
                continue
            system = any(w in name for w in ("Actor", "Agent", "Spill", "Restore"))
            role = ROLES[1] if member.pid == driver.pid else ROLES[0 if (
                name.startswith("ray::") and not system) else 2]  # fmt: skip
            result[member.pid] = (role, times.user + times.system)
    return result


def cpu_by_role(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
                ) -> dict[str, float]:  # fmt: skip
    """CPU seconds per role between two ``process_cpu`` snapshots."""
    spent = dict.fromkeys(ROLES, 0.0)
    for pid, (role, seconds) in after.items():
        spent[role] += seconds - before.get(pid, (role, 0.0))[1]
    return spent


def markdown(
    rows: int, files: int, seconds: dict[str, list[float]], busy: dict[str, list[float]],
    cpu: dict[str, list[dict[str, float]]], notes: list[str],
) -> str:
    rates = {k: [rows / s for s in v] for k, v in seconds.items()}
    mid = {k: statistics.median(v) for k, v in rates.items()}
    lines = [
        "# Ray on two nodes (loopback): willump predict's job on one node and on two",
        "",
        f"`python -m bench.ray_cluster --rows {rows}`: {rows:,} lending_club rows (resampled "
        f"test rows) in {files} Parquet files; `wm.ray.read_parquet` (one task per file) -> "
        "`wm.ray.predict` -> write Parquet, fused by Ray Data into one task per file. "
        f"Head on {HEAD}, second node on {SECOND}, **1 CPU each** (this machine has 2 cores, "
        f"{cpu_model()}, shared with other jobs), 1 CPU per task; the driver runs beside the "
        "head. One node: the head alone; two nodes: after the second node joined (one "
        "phase after the other, each a warm-up round then the repeats). Load average at "
        "the end: "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        "| configuration | rows/s, median (min-max) | seconds per job (median) | "
        "machine CPU busy during the job (median) | CPU s per job (median): task workers, "
        "driver, Ray's own processes |",
        "|---|---|---|---|---|",
    ]
    for name, values in rates.items():
        spent = ", ".join(f"{statistics.median(job[role] for job in cpu[name]):.1f}"
                          for role in ROLES)  # fmt: skip
        lines.append(f"| {name} | {timing.spread(values, ',.0f')} | "
                     f"{statistics.median(seconds[name]):.1f} | "
                     f"{statistics.median(busy[name]):.0%} | {spent} |")  # fmt: skip
    lines += ["", f"Two nodes / one node: **{mid['two nodes'] / mid['one node']:.2f}x**", ""]
    lines += notes
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store-mb", type=int, default=1024, help="object store per node")
    parser.add_argument("--out", type=Path, default=RESULTS / "ray.md")
    options = parser.parse_args(argv)
    source = write_rows(options.rows, options.files)
    token = secrets.token_hex(32)
    temp = Path(tempfile.mkdtemp(prefix="wray-"))  # short: Ray's socket paths live under it
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
           "RAY_TMPDIR": str(temp), "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    os.environ.update({k: env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_TMPDIR",
                                           "RAY_USAGE_STATS_ENABLED")})  # fmt: skip
    nodes: list[Node] = []
    import ray

    import willump_mlir as wm
    from willump_mlir.workloads import lending_club

    try:
        head = Node(HEAD, env, None, options.store_mb)
        nodes.append(head)
        wait_for_port(HEAD, head.port, head)
        address = f"{HEAD}:{head.port}"
        ray.init(address=address, log_to_driver=False)
        wait_for_nodes(1)
        ray.data.DataContext.get_current().enable_progress_bars = False
        data = lending_club.build(0)
        pipeline = wm.compile(lending_club.score, example=(data.test[:200], data.model))
        seconds: dict[str, list[float]] = {}
        busy_shares: dict[str, list[float]] = {"one node": [], "two nodes": []}
        cpu: dict[str, list[dict[str, float]]] = {"one node": [], "two nodes": []}
        out = Path(tempfile.mkdtemp(prefix="willump-ray-out-"))
        for name in ("one node", "two nodes"):
            if name == "two nodes":
                nodes.append(Node(SECOND, env, address, options.store_mb))
                wait_for_nodes(2)
            seconds[name] = []
            for repeat in range(options.repeats + 1):  # round 0 warms the workers up
                destination = out / f"{name.replace(' ', '-')}-{repeat}"
                before, processes = cpu_times(), process_cpu(nodes)
                elapsed = job(source, pipeline, destination)
                after, spent = cpu_times(), cpu_by_role(processes, process_cpu(nodes))
                busy = (after[0] - before[0]) / max(1, after[1] - before[1])
                print(f"{name}, repeat {repeat}: {elapsed:.1f} s "
                      f"({options.rows / elapsed:,.0f} rows/s), machine CPU {busy:.0%} busy, "
                      "CPU s: " + ", ".join(f"{r} {s:.1f}" for r, s in spent.items()),
                      flush=True)  # fmt: skip
                if repeat:
                    seconds[name].append(elapsed)
                    busy_shares[name].append(busy)
                    cpu[name].append(spent)
                written = pq.ParquetDataset(str(destination)).read(columns=["prediction"])
                if written.num_rows != options.rows or written["prediction"].null_count:
                    raise RuntimeError(f"{destination}: {written.num_rows:,} rows written")
                shutil.rmtree(destination, ignore_errors=True)
        notes = ["Every job's output was read back: every row, with its `prediction`."]
        options.out.write_text(markdown(options.rows, options.files, seconds, busy_shares, cpu,
                                            notes))  # fmt: skip
        print(options.out.read_text())
    except BaseException:
        for node in nodes:
            node.log.flush()
            print(f"--- {node.log.name} (last lines)", file=sys.stderr)
            print("".join(Path(node.log.name).read_text().splitlines(True)[-15:]),
                  file=sys.stderr)  # fmt: skip
        raise
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for node in reversed(nodes):
            node.stop()
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
