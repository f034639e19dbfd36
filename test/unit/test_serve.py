"""``willump serve`` as a real process on 127.0.0.1, queried with tritonclient.http (binary and
JSON) and plain httpx on every endpoint; every answer compared with the original function
on the same rows. What no real pipeline does on demand (a slow request to drain, a full
queue) is served from the stand-in repository of ``fake_repository.py``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from served_models import COLUMNS, Served, credit_rows, make_repository, review_docs
from tritonclient.utils import InferenceServerException

TEST = Path(__file__).resolve().parents[1]
LIMITS = ["--max-body-bytes", str(1 << 20), "--max-rows", "5000"]


@contextmanager
def running(command: list[str], log: Path, timeout: float = 120) -> Iterator[tuple[str, Any]]:
    """Start `command` (a server printing 'listening on http://HOST:PORT' to stderr), wait until
    it is ready, yield its URL and process; always stop it."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=TEST)
    try:
        deadline = time.monotonic() + timeout
        while (found := re.search(r"listening on (http://[\d.]+:\d+)", log.read_text())) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.05)
        url = found.group(1)
        while (
            httpx.get(f"{url}/v2/health/ready").status_code != 200
        ):  # models load in the background
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not get ready:\n{log.read_text()}")
            time.sleep(0.05)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def serve_command(root: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "willump_mlir.cli", "serve", str(root), "--port", "0", *LIMITS,
        *extra,
    ]  # fmt: skip


FAKE = [sys.executable, str(TEST / "fake_repository.py")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return make_repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="module")
def server(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, log file) of ``willump serve`` over `served`; stopped by SIGTERM, exiting 0."""
    log = tmp_path_factory.mktemp("log") / "server.log"
    with running(serve_command(served.root), log) as (url, process):
        yield url, log
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()


@pytest.fixture
def http(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=30) as client:
        yield client


@pytest.fixture
def client(server: tuple[str, Path]) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(server[0].removeprefix("http://"), network_timeout=30)


def metadata(http: httpx.Client, model: str) -> dict[str, Any]:
    response = http.get(f"/v2/models/{model}")
    assert response.status_code == 200, response.text
    return response.json()


def credit_inputs(meta: dict[str, Any], frame: pd.DataFrame, binary: bool) -> list[Any]:
    inputs = []
    for spec in meta["inputs"]:
        column = frame[spec["name"]].to_numpy()
        if spec["datatype"] == "BYTES":
            column = column.astype(object)
        tensor = triton.InferInput(spec["name"], [len(frame)], spec["datatype"])
        inputs.append(tensor.set_data_from_numpy(column, binary_data=binary))
    return inputs


def test_health_and_server_metadata(
    http: httpx.Client, client: triton.InferenceServerClient
) -> None:
    assert http.get("/v2/health/live").status_code == 200
    assert http.get("/v2/health/ready").status_code == 200
    assert client.is_server_live() and client.is_server_ready()
    meta = client.get_server_metadata()
    assert meta == http.get("/v2").json()
    assert meta["name"] == "willump-mlir"
    assert {"binary_tensor_data", "model_repository"} <= set(meta["extensions"])


def test_model_metadata_lists_the_real_inputs(
    http: httpx.Client, client: triton.InferenceServerClient
) -> None:
    credit = metadata(http, "credit")
    assert sorted(t["name"] for t in credit["inputs"]) == sorted(COLUMNS)
    types = {t["name"]: t["datatype"] for t in credit["inputs"]}
    assert types["amount"] == "FP64" and types["grade"] == "BYTES"
    assert types["years"] == "INT64"
    assert "1" in credit["versions"] and credit["outputs"]
    assert http.get("/v2/models/credit/versions/1").json()["inputs"] == credit["inputs"]
    assert client.get_model_metadata("credit") == credit
    reviews = metadata(http, "reviews")
    assert [t["datatype"] for t in reviews["inputs"]] == ["BYTES"]
    assert client.is_model_ready("credit") and client.is_model_ready("reviews", "1")
    assert http.get("/v2/models/credit/ready").status_code == 200


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("rows", [1, 60])
def test_credit_table_with_tritonclient(
    http: httpx.Client, client: triton.InferenceServerClient, served: Served, binary: bool,
    rows: int,
) -> None:  # fmt: skip
    meta = metadata(http, "credit")
    frame = credit_rows(rows, seed=rows)
    assert rows == 1 or frame.isna().any().any()  # NaN travel too
    output = meta["outputs"][0]["name"]
    result = client.infer(
        "credit", credit_inputs(meta, frame, binary), request_id="req-7",
        outputs=[triton.InferRequestedOutput(output, binary_data=binary)],
        parameters={"content_type": "pd"},
    )  # fmt: skip
    assert result.get_response()["id"] == "req-7"
    np.testing.assert_allclose(
        result.as_numpy(output).reshape(-1), served.expected("credit", frame), rtol=1e-9
    )


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_text_with_tritonclient(
    http: httpx.Client, client: triton.InferenceServerClient, served: Served, binary: bool
) -> None:
    meta = metadata(http, "reviews")
    docs = [*review_docs(20, seed=9), "", "great plot ünïcode ✓"]
    tensor = triton.InferInput(meta["inputs"][0]["name"], [len(docs)], "BYTES")
    tensor.set_data_from_numpy(np.array(docs, dtype=object), binary_data=binary)
    result = client.infer("reviews", [tensor])  # all outputs, binary (tritonclient's default)
    output = meta["outputs"][0]["name"]
    np.testing.assert_allclose(
        result.as_numpy(output).reshape(-1), served.expected("reviews", docs), rtol=1e-9
    )


def json_table(frame: pd.DataFrame, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The table as MLServer's ``pd`` inputs: one column each, NaN as null, str as BYTES."""
    inputs = []
    for spec in meta["inputs"]:
        column = frame[spec["name"]].astype(object).where(frame[spec["name"]].notna(), None)
        tensor = {"name": spec["name"], "shape": [len(frame)], "datatype": spec["datatype"],
                  "data": column.tolist()}  # fmt: skip
        if spec["datatype"] == "BYTES":
            tensor["parameters"] = {"content_type": "str"}
        inputs.append(tensor)
    return inputs


def test_json_table_with_httpx(http: httpx.Client, served: Served) -> None:
    meta = metadata(http, "credit")
    frame = credit_rows(40, seed=4)
    body = {"id": "a1", "parameters": {"content_type": "pd"}, "inputs": json_table(frame, meta)}
    response = http.post("/v2/models/credit/versions/1/infer", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["id"] == "a1" and answer["model_name"] == "credit"
    (out,) = answer["outputs"]
    assert out["datatype"] == "FP64" and out["shape"][0] == 40
    np.testing.assert_allclose(out["data"], served.expected("credit", frame), rtol=1e-9)


def test_text_nested_json_with_httpx(http: httpx.Client, served: Served) -> None:
    meta = metadata(http, "reviews")
    docs = review_docs(6, seed=3)
    body = {"inputs": [{"name": meta["inputs"][0]["name"], "shape": [6, 1], "datatype": "BYTES",
                        "data": [[d] for d in docs]}]}  # fmt: skip
    response = http.post("/v2/models/reviews/infer", json=body)
    assert response.status_code == 200, response.text
    assert "id" not in response.json()
    data = np.asarray(response.json()["outputs"][0]["data"], dtype=float)
    np.testing.assert_allclose(data, served.expected("reviews", docs), rtol=1e-9)


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_bad_tables_are_400_naming_the_problem(http: httpx.Client) -> None:
    meta = metadata(http, "credit")
    frame = credit_rows(3)
    url = "/v2/models/credit/infer"
    table = json_table(frame, meta)

    def post(inputs: list[dict[str, Any]]) -> httpx.Response:
        return http.post(url, json={"parameters": {"content_type": "pd"}, "inputs": inputs})

    missing = [t for t in table if t["name"] != "state"]
    assert "state" in error(post(missing), 400)
    wrong_type = [dict(t, datatype="FP64") if t["name"] == "grade" else t for t in table]
    assert "grade" in error(post(wrong_type), 400)
    wrong_shape = [dict(t, shape=[4]) if t["name"] == "rate" else t for t in table]
    assert "rate" in error(post(wrong_shape), 400)
    message = error(http.post(url, content=b'{"inputs": [{"name": "x",'), 400)
    assert "not valid JSON" in message
    assert "inputs" in error(http.post(url, json={"id": "1"}), 400)


def test_truncated_binary_body_is_400(http: httpx.Client) -> None:
    tensor = {"name": "docs", "shape": [2], "datatype": "BYTES"}
    tensor["parameters"] = {"binary_data_size": 20}
    header = json.dumps({"inputs": [tensor]}).encode()
    body = header + (5).to_bytes(4, "little") + b"hello" + (30).to_bytes(4, "little") + b"x"
    response = http.post(
        "/v2/models/reviews/infer", content=body,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )  # fmt: skip
    assert "truncated" in error(response, 400)
    response = http.post(
        "/v2/models/reviews/infer",
        content=header,
        headers={"Inference-Header-Content-Length": "999"},
    )
    assert "Inference-Header-Content-Length" in error(response, 400)


def test_oversized_bodies_and_rows_are_413(http: httpx.Client) -> None:
    big = {
        "inputs": [{"name": "docs", "shape": [1], "datatype": "BYTES", "data": ["a" * (2 << 20)]}]
    }
    assert "limit" in error(http.post("/v2/models/reviews/infer", json=big), 413)
    many = {
        "inputs": [{"name": "docs", "shape": [6000], "datatype": "BYTES", "data": ["a"] * 6000}]
    }
    assert "5000" in error(http.post("/v2/models/reviews/infer", json=many), 413)


def test_unknown_models_and_versions_are_404(
    http: httpx.Client, client: triton.InferenceServerClient
) -> None:
    assert "nope" in error(http.get("/v2/models/nope"), 404)
    assert error(http.get("/v2/models/credit/versions/9"), 404)
    body = {"inputs": [{"name": "docs", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}
    assert error(http.post("/v2/models/nope/infer", json=body), 404)
    assert error(http.post("/v2/models/reviews/versions/9/infer", json=body), 404)
    assert error(http.get("/v2/elsewhere"), 404)
    with pytest.raises(InferenceServerException, match="nope"):
        client.get_model_metadata("nope")


def test_repository_extension(http: httpx.Client, client: triton.InferenceServerClient) -> None:
    index = client.get_model_repository_index()
    assert {"credit", "reviews"} <= {entry["name"] for entry in index}
    assert http.post("/v2/repository/index", json={"ready": True}).status_code == 200
    client.unload_model("reviews")
    assert not client.is_model_ready("reviews")
    client.load_model("reviews")
    assert client.is_model_ready("reviews")
    assert error(http.post("/v2/repository/models/nope/load"), 404)


def test_metrics_and_access_log(
    http: httpx.Client, served: Served, server: tuple[str, Path]
) -> None:
    meta = metadata(http, "credit")
    body = {"parameters": {"content_type": "pd"}, "inputs": json_table(credit_rows(5), meta)}
    assert http.post("/v2/models/credit/infer", json=body).status_code == 200
    body["inputs"] = body["inputs"][1:]
    assert http.post("/v2/models/credit/infer", json=body).status_code == 400
    text = http.get("/metrics").text
    assert re.search(r'willump_requests_total\{model="credit",version="1"\} [1-9]', text)
    assert 'willump_request_errors_total{code="400",model="credit",version="1"}' in text
    assert 'willump_batch_rows_bucket{le="8.0",model="credit",version="1"}' in text
    assert 'willump_compute_duration_seconds_count{model="credit",version="1"}' in text
    assert "process_resident_memory_bytes" in text
    assert "# TYPE willump_handoff_rows_total counter" in text  # by reason: none here yet
    time.sleep(0.2)
    lines = [json.loads(line) for line in server[1].read_text().splitlines() if line[:1] == "{"]
    infer = [line for line in lines if line["path"] == "/v2/models/credit/infer"]
    assert infer and {"status", "ms", "bytes_in", "rows", "model"} <= set(infer[-1])


def test_request_times_are_finer_than_whole_milliseconds(
    http: httpx.Client, server: tuple[str, Path]
) -> None:
    """Regression: the times came from uvloop's ``loop.time()``, which counts whole
    milliseconds, so every fast request logged 0.0 or 1.0 ms (and the latency histogram
    got 0 or 1 ms)."""
    for _ in range(20):
        assert http.get("/v2/health/live?timing").status_code == 200
    time.sleep(0.2)
    lines = [json.loads(line) for line in server[1].read_text().splitlines() if line[:1] == "{"]
    times = [line["ms"] for line in lines if line["path"] == "/v2/health/live"]
    assert len(times) >= 20 and any(ms % 1 for ms in times), times


def test_bad_tokens_are_401(served: Served, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    command = serve_command(served.root, "--token-file", str(token))
    with running(command, tmp_path / "log") as (url, _):
        with httpx.Client(base_url=url) as http:
            assert http.get("/v2/health/ready").status_code == 200  # health stays open
            assert http.get("/metrics").status_code == 200
            assert error(http.get("/v2/models/credit"), 401)
            wrong = {"Authorization": "Bearer s3cre"}
            assert error(http.get("/v2/models/credit", headers=wrong), 401)
            ok = {"Authorization": "Bearer s3cret"}
            assert http.get("/v2/models/credit", headers=ok).status_code == 200
        client = triton.InferenceServerClient(url.removeprefix("http://"))
        with pytest.raises(InferenceServerException, match="token"):
            client.get_model_metadata("credit")
        assert client.get_model_metadata("credit", headers=ok)["name"] == "credit"


def test_sigterm_drains_an_in_flight_request(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with running(FAKE, log) as (url, process):
        answers: list[httpx.Response] = []
        tensor = {"name": "x", "shape": [2], "datatype": "FP64", "data": [1.5, 2]}
        body = {"parameters": {"sleep": 1.0}, "inputs": [tensor]}
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{url}/v2/models/sleepy/infer", json=body, timeout=60)
            )
        )
        request.start()
        deadline = time.monotonic() + 60
        while "sleepy: sleeping" not in log.read_text():  # in flight (not a fixed wait)
            assert time.monotonic() < deadline and request.is_alive(), log.read_text()
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        request.join(20)
        assert process.wait(20) == 0, log.read_text()
    assert answers and answers[0].status_code == 200, log.read_text()
    assert answers[0].json()["outputs"][0]["data"] == [1.5, 2.0]


def test_overloaded_is_503_with_retry_after(tmp_path: Path) -> None:
    with running(FAKE, tmp_path / "log") as (url, _):
        body = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}
        response = httpx.post(f"{url}/v2/models/busy/infer", json=body)
        assert "queue is full" in error(response, 503)
        assert response.headers["retry-after"] == "1"
