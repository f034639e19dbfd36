"""``willump serve --workers 2`` as a real process tree on 127.0.0.1: both workers answer,
/metrics counts the whole server, a repository load or unload reaches every worker (under load,
without a failed request), SIGTERM drains every worker and the parent exits 0, a killed worker
is restarted."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from served_models import Served, make_repository, review_docs
from test_serve import running, serve_command


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return make_repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture
def server(served: Served, tmp_path: Path) -> Iterator[tuple[str, Any, Path]]:
    """(URL, process, repository) of ``willump serve --workers 2`` over a copy of `served`."""
    root = tmp_path / "repository"
    shutil.copytree(served.root, root)
    with running(serve_command(root, "--workers", "2", "--shutdown-delay", "3"),
                 tmp_path / "log") as (url, process):  # fmt: skip
        yield url, process, root


def workers(process: Any) -> list[int]:
    """The worker processes of the parent `process`."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    return sorted(int(pid) for pid in children.split())


def counts(url: str) -> dict[str, float]:
    """The samples of /metrics, by name and labels."""
    text = httpx.get(f"{url}/metrics").text
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\S+) (\S+)$", text, re.M)}


def settled(url: str, name: str, expected: float) -> dict[str, float]:
    """The samples of /metrics once ``name`` reads ``expected`` (or after 10 s): a request is
    counted just after its answer is written."""
    deadline = time.monotonic() + 10
    while (samples := counts(url)).get(name) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return samples


def infer(url: str, served: Served, docs: list[str]) -> dict[str, Any]:
    """The reviews model's answer for `docs` on a new connection (so that it may go to either
    worker), checked against the original function."""
    body = {"inputs": [{"name": "docs", "shape": [len(docs)], "datatype": "BYTES", "data": docs}]}
    response = httpx.post(f"{url}/v2/models/reviews/infer", json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    np.testing.assert_allclose(answer["outputs"][0]["data"], served.expected("reviews", docs))
    return answer


def test_both_workers_answer_and_metrics_count_the_whole_server(
    served: Served, server: tuple[str, Any, Path]
) -> None:
    url, process, _ = server
    assert len(workers(process)) == 2
    name = httpx.get(f"{url}/v2/models/reviews").json()["inputs"][0]["name"]
    assert name == "docs"
    sent = 0
    for start in range(0, 60, 10):  # concurrent clients: an idle worker takes a connection
        threads = [threading.Thread(target=infer, args=(url, served, review_docs(3, seed=i)))
                   for i in range(start, start + 10)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        sent += len(threads)
        by_worker = [counts(url).get(f'willump_worker_requests_total{{worker="{w}"}}', 0)
                     for w in ("0", "1")]  # fmt: skip
        if min(by_worker) > 0:
            break
    assert min(by_worker) > 0, by_worker
    # (the metadata request counts too)
    total = 'willump_requests_total{model="reviews",version="1"}'
    samples = settled(url, total, sent + 1)
    assert samples[total] == sent + 1
    assert samples['willump_rows_total{model="reviews",version="1"}'] == 3 * sent
    latency = 'willump_request_duration_seconds_count{model="reviews",version="1"}'
    assert samples[latency] == sent + 1
    assert "process_resident_memory_bytes" not in samples  # it would be one worker's


def test_load_and_unload_reach_every_worker_under_load(
    served: Served, server: tuple[str, Any, Path]
) -> None:
    url, _, root = server
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                infer(url, served, ["good movie", "boring plot"])
            except (AssertionError, httpx.HTTPError) as error:
                failures.append(str(error))

    clients = [threading.Thread(target=load) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.3)
        shutil.copytree(root / "reviews" / "1", root / "reviews" / "2")
        response = httpx.post(f"{url}/v2/repository/models/reviews/load", timeout=60)
        assert response.status_code == 200, response.text
        time.sleep(0.3)
    finally:
        stop.set()
        for client in clients:
            client.join(30)
    assert failures == []
    versions = {infer(url, served, ["fun"])["model_version"] for _ in range(20)}
    assert versions == {"2"}  # every worker swapped before the load was answered
    assert httpx.post(f"{url}/v2/repository/models/reviews/unload").status_code == 200
    body = {"inputs": [{"name": "docs", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}
    for _ in range(10):
        response = httpx.post(f"{url}/v2/models/reviews/infer", json=body)
        assert response.status_code == 404 and "unloaded" in response.text
    missing = httpx.post(f"{url}/v2/repository/models/nothing/load")
    assert missing.status_code == 404 and "nothing" in missing.text
    assert httpx.post(f"{url}/v2/repository/models/reviews/load").status_code == 200
    assert {infer(url, served, ["fun"])["model_version"] for _ in range(10)} == {"2"}


def test_a_killed_worker_is_restarted_and_its_counts_kept(
    served: Served, server: tuple[str, Any, Path]
) -> None:
    url, process, root = server
    assert httpx.post(f"{url}/v2/repository/models/credit/unload").status_code == 200
    for i in range(10):
        infer(url, served, review_docs(2, seed=i))
    total = 'willump_requests_total{model="reviews",version="1"}'
    assert settled(url, total, 10)[total] == 10  # before the kill
    before = workers(process)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    readiness: list[int | str] = []  # not ready while a worker restarts (the others answer)
    while (now := workers(process)) == before or len(now) < 2 or readiness[-1:] != [200]:
        assert time.monotonic() < deadline and process.poll() is None
        try:
            readiness.append(httpx.get(f"{url}/v2/health/ready", timeout=30).status_code)
        except httpx.TransportError:  # connected to the dying worker's socket: reset
            readiness.append("reset")
        time.sleep(0.1)
    assert victim not in now and len(now) == 2
    assert 503 in readiness, readiness
    for i in range(10):
        infer(url, served, review_docs(2, seed=i))
    assert settled(url, total, 20)[total] == 20
    # the restarted worker does not load what a client unloaded
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}
    for _ in range(10):
        assert httpx.post(f"{url}/v2/models/credit/infer", json=body).status_code == 404


def test_sigterm_drains_every_worker(served: Served, server: tuple[str, Any, Path]) -> None:
    url, process, _ = server
    children = workers(process)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    assert httpx.get(f"{url}/v2/health/ready").status_code == 503  # not ready, still answering
    infer(url, served, ["great music"])
    assert process.wait(30) == 0
    for pid in children:  # gone (or a zombie of the test's init)
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text()


def test_a_taken_port_exits_3(served: Served, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [*serve_command(served.root, "--workers", "2"), "--port", port]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "cannot listen" in result.stderr


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_must_be_positive_or_auto(
    workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from willump_mlir.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(tmp_path), "--workers", workers])
    assert exit_.value.code == 2
    assert "--workers must be a positive integer or 'auto'" in capsys.readouterr().err
