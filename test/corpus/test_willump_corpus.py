"""``willump corpus``: the table it prints and writes (results are compared by
``willump_mlir.selfcheck.difference``, tested in test/unit/test_selfcheck.py)."""

from __future__ import annotations

import json
from pathlib import Path

from willump_mlir.cli import main


def test_willump_corpus_writes_its_table(tmp_path: Path) -> None:
    status = main(
        ["corpus", "penguins_pipeline", "--repeats", "1", "--single-rows", "2",
         "--output", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    table = (tmp_path / "corpus.md").read_text()
    assert "| penguins_pipeline | penguins | yes | yes | yes |" in table
    (outcome,) = json.loads((tmp_path / "corpus.json").read_text())
    assert outcome["exact"] and outcome["batch_speedup"] > 0
