"""``willump demo`` (the README's main job, as ``demo.run_demo`` runs it): compiles the
bundled workloads, prints the comparison table, the cascade and the served answers, exits 0."""

from __future__ import annotations

import re

from willump_mlir.cli import main

ROW = re.compile(
    r"^(batch|single row)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s+([\d.e+-]+)$", re.M
)


def check_table(out: str) -> None:
    assert re.search(r"rows\s+original ms\s+compiled ms\s+speedup\s+max \|diff\|", out), out
    rows = list(ROW.finditer(out))
    assert {m.group(1) for m in rows} == {"batch", "single row"}, out
    assert all(int(m.group(2)) == 1 for m in rows if m.group(1) == "single row")
    assert all(int(m.group(2)) > 1000 for m in rows if m.group(1) == "batch")
    for row in rows:
        assert float(row.group(5)) > 0  # a speedup is printed
        assert float(row.group(6)) <= 1e-9  # max |diff|
    assert "ERROR" not in out


def test_cli_demo(capsys) -> None:
    assert main(["demo", "--single-rows", "3", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    check_table(out)
    assert "LogisticRegression.predict_proba" in out  # the explain() text
    assert "median over 3 different rows" in out
    assert re.search(r"wm\.compile: [\d.]+ s \((object-code cache hit|cold compile)\)", out)
    # the cascade part: certified, and its loss on unseen tweets printed
    assert "Chosen: cheap groups TfidfVectorizer(word)" in out
    assert re.search(r"unseen test tweets: accuracy loss [+-]\d\.\d{4} \(allowed 0\.01\)", out)
    # the serving part: each demo model answered over HTTP, as in process
    line = r"^  (\w+)\s+3 rows -> .* in [\d.]+ ms \(first query [\d.]+ ms; max \|diff\| vs in-"
    line += r"process (\S+)\)$"
    served = re.findall(line, out, re.M)
    names = {"lending_club", "trump_tweets", "movielens", "toxic_cascade"}
    assert {name for name, _ in served} == names, out
    assert all(float(diff) <= 1e-9 for _, diff in served)
