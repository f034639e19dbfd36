"""Smoke test of the serving benchmark's load generator (bench.serving_client) against the
trivial server, of the requests it sends (no model, about two seconds), and of the report's
comparison of the machine with the previous run."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

from bench import serving, serving_report  # noqa: E402

FRAME = pd.DataFrame({"x": [1.5, np.nan, -2.0], "term": ["term_36", "é", ""]})


def test_client_drives_the_trivial_server_and_counts_every_answer(tmp_path: Path) -> None:
    server = serving.SERVERS["trivial"]
    assert server.start is not None
    port = serving.free_port()
    proc = server.start(tmp_path, port, tmp_path / server.log)
    try:
        serving.wait_ready_any(proc, port)
        body, headers = serving.encode_json(FRAME, None)
        requests = tmp_path / "requests.pkl"
        message = serving.http_message(port, serving.INFER_PATH, body, headers)
        requests.write_bytes(pickle.dumps([message]))
        result = serving.drive(requests, port, 4, 1, 0.2, 0.5, "raw", proc.pid)
    finally:
        serving.stop(proc)
    assert result["errors"] == []
    assert set(result["statuses"]) == {"200"}
    assert result["rps"] > 0 and result["ok"] == round(result["rps"] * 0.5)
    assert result["p50_ms"] <= result["p99_ms"]
    assert proc.poll() is not None and serving._group_pids(proc.pid) == []


def test_binary_request_carries_the_json_header_and_raw_tensors() -> None:
    body, headers = serving.encode_binary(FRAME, ["predict"])
    length = int(headers["Inference-Header-Content-Length"])
    header = json.loads(body[:length])
    assert header["parameters"] == {"content_type": "pd", "binary_data_output": True}
    x, term = header["inputs"]
    raw = body[length:]
    assert x["datatype"] == "FP64" and x["parameters"]["binary_data_size"] == 24
    np.testing.assert_array_equal(np.frombuffer(raw[:24], "<f8"), FRAME["x"].to_numpy())
    assert term["datatype"] == "BYTES" and term["parameters"]["content_type"] == "str"
    strings = raw[24:]
    assert len(strings) == term["parameters"]["binary_data_size"]
    assert strings == b"\x07\0\0\0term_36" + b"\x02\0\0\0" + "é".encode() + b"\0\0\0\0"


def test_scores_are_read_from_json_and_binary_answers() -> None:
    scores = np.array([0.25, 0.5])
    answer = {
        "outputs": [
            {
                "name": "p",
                "shape": [2, 2],
                "datatype": "FP64",
                "data": np.c_[1 - scores, scores].ravel().tolist(),
            }
        ]
    }
    np.testing.assert_array_equal(serving.decode_scores(json.dumps(answer).encode(), {}), scores)
    header = json.dumps(
        {
            "outputs": [
                {
                    "name": "p",
                    "shape": [2],
                    "datatype": "FP64",
                    "parameters": {"binary_data_size": 16},
                }
            ]
        }
    ).encode()
    body = header + scores.astype("<f8").tobytes()
    got = serving.decode_scores(body, {"inference-header-content-length": str(len(header))})
    np.testing.assert_array_equal(got, scores)


def test_the_report_says_how_the_machine_moved_since_the_previous_run() -> None:
    now = {"sklearn_1": 5604.0, "sklearn_100": 7602.0, "willump_100": 474.0}
    before = {"sklearn_1": 5611.0, "sklearn_100": 5450.0, "willump_100": 302.0}
    text = "\n".join(serving_report.machine_drift(
        {"pipeline_us": now, "previous_pipeline_us": before}))  # fmt: skip
    assert "predict_proba, 100 row(s): 5450 → 7602 µs (+39%)" in text
    assert "predict_proba, 1 row(s): 5611 → 5604 µs (-0%)" in text
    assert "the compiled pipeline, 100 row(s): 302 → 474 µs (+57%)" in text
    assert serving_report.machine_drift({"pipeline_us": now, "previous_pipeline_us": None}) == []
