"""The Dockerfile: its command line and health check run for real against ``willump serve``
(always), and the image built and run where a Docker daemon answers (skipped elsewhere)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from served_models import Served, credit_rows, make_repository

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instruction(name: str) -> str:
    """The (last) ``NAME`` instruction of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = [line[len(name) :].strip() for line in text.splitlines() if line.startswith(name + " ")]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]


def exec_form(value: str) -> list[str]:
    """An exec-form (JSON array) instruction's arguments."""
    args = json.loads(value)
    assert isinstance(args, list) and all(isinstance(a, str) for a in args), value
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return make_repository(tmp_path_factory.mktemp("repository"))


def wait_ready(
    url: str, process_alive: Callable[[], bool], timeout: float, log: Callable[[], str]
) -> None:
    """Poll ``/v2/health/ready`` until 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process_alive(), f"the server exited:\n{log()}"
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready after {timeout} s:\n{log()}")


def infer_credit(url: str, served: Served) -> None:
    """One JSON table request; the answer equals the original function's."""
    frame = credit_rows(5, seed=3)
    inputs = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column):
            data = [None if np.isnan(v) else v for v in column]  # null: a missing number
            inputs.append({"name": name, "shape": [5], "datatype": "FP64", "data": data})
        elif pd.api.types.is_integer_dtype(column):
            inputs.append(
                {"name": name, "shape": [5], "datatype": "INT64", "data": column.tolist()}
            )
        else:
            inputs.append(
                {
                    "name": name,
                    "shape": [5],
                    "datatype": "BYTES",
                    "parameters": {"content_type": "str"},
                    "data": column.tolist(),
                }
            )
    body = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    response = httpx.post(f"{url}/v2/models/credit/infer", json=body, timeout=30)
    assert response.status_code == 200, response.text
    got = np.asarray(response.json()["outputs"][0]["data"], dtype=np.float64)
    np.testing.assert_allclose(got, served.expected("credit", frame), rtol=0, atol=1e-9)


def test_dockerfile_command_and_healthcheck_work(served: Served, tmp_path: Path) -> None:
    """The CMD is a real ``willump serve`` command line: run it (on 127.0.0.1 and a free port
    instead of the container's 0.0.0.0:8080, the repository instead of /models), then run
    the HEALTHCHECK command against it: exit 0 when ready."""
    cmd = exec_form(instruction("CMD"))
    assert cmd[:3] == ["willump", "serve", "/models"]
    assert "/models" in instruction("VOLUME")
    assert instruction("USER") not in ("", "root", "0")
    health = exec_form(instruction("HEALTHCHECK").split("CMD", 1)[1].strip())
    assert "/v2/health/ready" in " ".join(health)
    port = free_port()
    container_port = cmd[cmd.index("--port") + 1]
    willump = Path(sys.executable).with_name("willump")
    args = [str(willump), cmd[1], str(served.root), *cmd[3:]]
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, lambda: process.poll() is None, 120, log.read_text)
        probe = [a.replace(f":{container_port}/", f":{port}/") for a in health]
        probe[0] = sys.executable if probe[0] == "python" else probe[0]
        assert subprocess.run(probe, timeout=30).returncode == 0
        infer_credit(url, served)
        process.terminate()
        assert process.wait(30) == 0, log.read_text()
        # not ready (stopped): the health check fails
        assert subprocess.run(probe, timeout=30, capture_output=True).returncode != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def docker_daemon() -> str | None:
    """Why the Docker test cannot run here, or None when a daemon answers."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        info = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    if info.returncode != 0:
        said = (info.stderr or info.stdout).strip().splitlines() or ["docker info failed"]
        return f"no Docker daemon: {said[-1]}"
    return None


@pytest.fixture
def image() -> Iterator[str]:
    reason = docker_daemon()
    if reason is not None:
        pytest.skip(reason)
    tag = f"willump-mlir-test:{uuid.uuid4().hex[:12]}"
    build = subprocess.run(
        ["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


def test_image_serves_the_repository_and_turns_healthy(image: str, served: Served) -> None:
    """Build the image, run it on the repository (read-only volume), query it, and wait for
    Docker's own health status to become healthy."""
    name = f"willump-mlir-test-{uuid.uuid4().hex[:12]}"
    run = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "-p",
            "127.0.0.1::8080",
            "-v",
            f"{served.root}:/models:ro",
            image,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    try:

        def logs() -> str:
            out = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
            return out.stdout + out.stderr

        def alive() -> bool:
            state = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Running}}", name],
                capture_output=True,
                text=True,
            )
            return state.stdout.strip() == "true"

        mapped = subprocess.run(
            ["docker", "port", name, "8080/tcp"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        url = f"http://127.0.0.1:{mapped.rsplit(':', 1)[1]}"
        wait_ready(url, alive, 300, logs)
        infer_credit(url, served)
        user = subprocess.run(
            ["docker", "exec", name, "id", "-u"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert user != "0"
        deadline = time.monotonic() + 180
        status = ""
        while time.monotonic() < deadline:
            status = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Health.Status}}", name],
                capture_output=True,
                text=True,
            ).stdout.strip()
            if status == "healthy":
                break
            time.sleep(2)
        assert status == "healthy", logs()
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
