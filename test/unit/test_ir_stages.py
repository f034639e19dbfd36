"""``compiled.ir(stage)`` is textual IR that ``willump-opt`` parses back, stage by stage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import llvmlite.binding as llvm
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OrdinalEncoder

import willump_mlir as wm
from willump_mlir.workloads import lending_club as lc

WILLUMP_OPT = Path(sys.executable).with_name("willump-opt")
MLIR_STAGES = ("pipeline", "feature", "cascade", "scf", "llvm")
PASSES = {  # the passes that turn the previous stage into this one
    "feature": "lower-pipeline-to-feature,fuse-features",
    "scf": "lower-feature-to-scf",
    "llvm": "convert-to-llvm,pack-kernel-arguments",
}
PREVIOUS = {"feature": "pipeline", "scf": "cascade", "llvm": "scf"}


def helper(x):
    return x * 1.5


def mixed(frame, model):
    codes = frame[["sub_grade", "addr_state"]]
    x = np.hstack([helper(frame[["int_rate", "revol_util"]].to_numpy()),
                   np.log1p(frame[["annual_inc"]].to_numpy())])  # fmt: skip
    return model.predict(x) + codes.shape[1]


def ordinal(frame, encoder):
    return encoder.transform(frame[["sub_grade", "addr_state"]])


def run_all(jobs: dict[tuple, list[str]], tmp: Path, texts: dict[tuple, str]) -> dict:
    """Run every willump-opt job at once (each is a ~1 s Python start-up)."""
    running = {}
    for key, args in jobs.items():
        source = tmp / ("_".join(map(str, key)) + ".mlir")
        source.write_text(texts[key[:2]])
        running[key] = subprocess.Popen([str(WILLUMP_OPT), str(source), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)  # fmt: skip
    results = {}
    for key, process in running.items():
        out, err = process.communicate(timeout=300)
        results[key] = SimpleNamespace(returncode=process.returncode, out=out, err=err)
    return results


@pytest.fixture(scope="module")
def stages(lending_club, tmp_path_factory) -> SimpleNamespace:
    work = lending_club
    train = work.train
    model = Pipeline([("mm", MinMaxScaler(clip=True)), ("ridge", Ridge())])
    model.fit(np.hstack([helper(train[["int_rate", "revol_util"]].to_numpy()),
                         np.log1p(train[["annual_inc"]].to_numpy())]), work.y_train)  # fmt: skip
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    encoder.fit(train[["sub_grade", "addr_state"]])
    example = work.test.iloc[:100]
    compiled = {
        "lending_club": wm.compile(lc.score, example=(example, work.model)),
        "mixed": wm.compile(mixed, example=(example, model)),
        "ordinal": wm.compile(ordinal, example=(example, encoder)),
    }
    # with the blobs' data: the lowering reads some (a linear model's coefficients)
    texts = {(name, stage): c.ir(stage, blobs=True)
             for name, c in compiled.items() for stage in MLIR_STAGES}  # fmt: skip
    jobs: dict[tuple, list[str]] = {}
    for name in compiled:
        for stage in MLIR_STAGES:
            jobs[(name, stage, "parse")] = []
        for stage, passes in PASSES.items():
            jobs[(name, PREVIOUS[stage], "to-" + stage)] = ["-p", passes]
        jobs[(name, "llvm", "target-llvm")] = ["-t", "llvm"]
    results = run_all(jobs, tmp_path_factory.mktemp("ir"), texts)
    return SimpleNamespace(compiled=compiled, texts=texts, results=results)


NAMES = ("lending_club", "mixed", "ordinal")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stage", MLIR_STAGES)
def test_stage_parses_back(stages, name, stage) -> None:
    text = stages.texts[(name, stage)]
    assert text.startswith("builtin.module") or text.startswith("module"), text[:200]
    result = stages.results[(name, stage, "parse")]
    assert result.returncode == 0, result.err[-3000:]
    # printing the parsed module gives the same text back
    assert result.out.strip() == text.strip()


def test_ir_prints_the_blobs_data_only_when_asked(stages) -> None:
    compiled = stages.compiled["lending_club"]
    assert "dialect_resources" not in compiled.ir("feature")
    with_blobs = stages.texts[("lending_club", "feature")]
    assert with_blobs.startswith(compiled.ir("feature").rstrip())
    assert "dialect_resources: {\n    pipeline: {" in with_blobs
    assert "logisticregression_coef_" in with_blobs.split("dialect_resources")[1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stage", list(PASSES))
def test_willump_opt_passes_reproduce_the_next_stage(stages, name, stage) -> None:
    result = stages.results[(name, PREVIOUS[stage], "to-" + stage)]
    assert result.returncode == 0, result.err[-3000:]
    assert result.out.strip() == stages.texts[(name, stage)].strip()


@pytest.mark.parametrize("name", NAMES)
def test_llvm_target_prints_llvm_ir(stages, name) -> None:
    result = stages.results[(name, "llvm", "target-llvm")]
    assert result.returncode == 0, result.err[-3000:]
    assert "define " in result.out
    kernels = [k for k in stages.compiled[name].kernels]
    assert all(re.search(f'define [^\n]*@"?{k}"?\\(', result.out) for k in kernels), kernels
    llvm_ir = stages.compiled[name].ir("llvm-ir")
    # xDSL's target drops a function's linkage, which the JIT's translation restores (the
    # internal helpers through which kernels call numpy's loops)
    assert result.out.strip() == llvm_ir.strip().replace("define internal ", "define ")
    llvm.parse_assembly(llvm_ir).verify()


def test_stage_contents(stages) -> None:
    texts = {stage: stages.texts[("lending_club", stage)] for stage in MLIR_STAGES}
    assert "pipeline.predict" in texts["pipeline"]
    assert "feature." in texts["feature"]
    assert "scf.for" in texts["scf"]
    assert "llvm.func" in texts["llvm"]
    assert "#pipeline.blob<" in texts["pipeline"]  # constants are blob references
    mixed = stages.texts[("mixed", "pipeline")]
    assert "pipeline.python_call" in mixed
    compiled = stages.compiled["mixed"]
    assert "codes.shape" in compiled.explain()  # helper(...) is inlined: native


def test_unknown_stage(stages) -> None:
    with pytest.raises(ValueError, match="unknown stage 'bogus'"):
        stages.compiled["ordinal"].ir("bogus")
