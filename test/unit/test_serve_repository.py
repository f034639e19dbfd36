"""``serve.repository``: real pipelines saved into a repository, their metadata, ``infer``
against the original function on the same rows, loading, reloading and unloading."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import serve_pipelines as sp
import tamper_pipelines as tp

import willump_mlir as wm
from willump_mlir.serve import repository as repository_module
from willump_mlir.serve.errors import NotFound, NotReady, ServeError, TooLarge
from willump_mlir.serve.metrics import Metrics
from willump_mlir.serve.repository import (
    CONFIG,
    ModelConfig,
    ModelVersion,
    Repository,
    TensorSpec,
)


@dataclass
class Models:
    loans: Any  # CompiledPipeline of sp.score_loans
    loans_py: Any  # with a Python step: its save holds a pickle
    model: Any
    fresh: pd.DataFrame  # rows the model did not see
    text: Any
    docs: list[str]
    fast: Any  # OptimizedPipeline with a cascade
    cascade_model: Any
    cascade_rows: pd.DataFrame


@pytest.fixture(scope="module")
def models() -> Models:
    frame, y = sp.loans()
    model = sp.loan_model(frame[:400], y[:400])
    loans = wm.compile(sp.score_loans, example=(frame[:200], model))
    loans_py = wm.compile(sp.score_loans_py, example=(frame[:200], model))
    fn, example, fresh_text = tp.build("text")
    text = wm.compile(fn, example=example)
    fast, cascade_model, cascade_rows = sp.cascade()
    return Models(loans, loans_py, model, frame[400:].reset_index(drop=True), text,
                  list(fresh_text[0]), fast, cascade_model, cascade_rows)  # fmt: skip


@pytest.fixture(scope="module")
def root(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repository")
    models.loans.save(root / "loans" / "1")
    models.text.save(root / "text" / "1")
    models.fast.save(root / "cascade" / "1")
    return root


def run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(main())


async def opened(root: Path, **options: Any) -> Repository:
    repository = Repository(root, **options)
    for _ in range(2000):
        if repository.ready():
            return repository
        await asyncio.sleep(0.01)
    raise AssertionError("the repository did not load")


def request(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A table request as the protocol decodes it: one array per column, str as bytes."""
    return {
        name: np.array([None if v is None or v != v else v.encode() for v in column],
                       dtype=object) if column.dtype == object else column.to_numpy()
        for name, column in frame.items()
    }  # fmt: skip


async def infer(model: ModelVersion, inputs: dict[str, np.ndarray], **kw: Any) -> Any:
    return await model.infer(inputs, parameters=kw.pop("parameters", {}), outputs=None, **kw)


def test_metadata_lists_the_real_columns_and_datatypes(models: Models, root: Path) -> None:
    async def main() -> None:
        repository = await opened(root)
        loans = repository.get("loans")
        assert loans.inputs == [
            TensorSpec("amount", "FP64", [-1]), TensorSpec("rate", "FP64", [-1]),
            TensorSpec("years", "INT64", [-1]), TensorSpec("grade", "BYTES", [-1]),
            TensorSpec("state", "BYTES", [-1]),
        ]  # fmt: skip
        assert loans.outputs == [TensorSpec("predict", "FP64", [-1])]
        assert (loans.name, loans.version, loans.platform, loans.ready) == \
            ("loans", "1", "willump-mlir", True)  # fmt: skip
        text = repository.get("text")
        assert text.inputs == [TensorSpec("docs", "BYTES", [-1])]
        cascade = repository.get("cascade", "1")
        assert [t.name for t in cascade.inputs] == list("abcdef")
        assert repository.index() == [
            {"name": n, "version": "1", "state": "READY", "reason": ""}
            for n in ("cascade", "loans", "text")
        ]
        await repository.close()

    run(main)


def test_infer_equals_the_original_on_the_same_rows(models: Models, root: Path) -> None:
    fresh = models.fresh

    async def main() -> None:
        repository = await opened(root)
        loans = repository.get("loans")
        for rows in (fresh, fresh.iloc[[3]], fresh.iloc[7:9]):
            got = (await infer(loans, request(rows)))["predict"]
            np.testing.assert_array_equal(got, models.loans(rows))
            np.testing.assert_allclose(got, sp.score_loans(rows, models.model), rtol=0, atol=1e-9)
        assert np.isnan(fresh["amount"]).any()
        text = repository.get("text")
        docs = np.array([d.encode() for d in models.docs[:50]], dtype=object)
        got = (await infer(text, {"docs": docs}))["predict"]
        np.testing.assert_array_equal(got, models.text(models.docs[:50]))
        cascade = repository.get("cascade")
        rows = models.cascade_rows
        inputs = {c: rows[c].to_numpy() for c in rows}
        got = (await infer(cascade, inputs))["predict"]
        np.testing.assert_array_equal(got, models.fast(rows, models.cascade_model))
        await repository.close()

    run(main)


def test_conversions_are_exact_or_refused_naming_the_input(models: Models, root: Path) -> None:
    rows = models.fresh.iloc[:4]

    async def main() -> None:
        repository = await opened(root)
        loans = repository.get("loans")
        expected = models.loans(rows)
        rate = rows["rate"].to_numpy().astype(np.float32)  # FP32 into float64: exact
        years = rows["years"].to_numpy().astype(np.float64)  # integral floats into int64
        got = await infer(loans, request(rows) | {"years": years, "rate": rate})
        np.testing.assert_array_equal(got["predict"], models.loans(rows.assign(rate=rate)))
        strings = request(rows) | {"grade": rows["grade"].to_numpy().astype(str)}  # str, not bytes
        np.testing.assert_array_equal((await infer(loans, strings))["predict"], expected)
        bad = {
            "years": (np.array([1.5, 2, 3, 4]), "input 'years', row 0: [1.5] is not exactly"),
            "amount": (np.array([b"1", b"2", b"3", b"4"], dtype=object), "input 'amount' is "
                       "BYTES where the pipeline reads FP64"),
            "grade": (np.arange(4.0), "input 'grade' is FP64 where the pipeline reads BYTES"),
            "state": (np.array([b"\xff"] * 4, dtype=object), "input 'state', row 0: not UTF-8"),
        }  # fmt: skip
        for name, (array, message) in bad.items():
            with pytest.raises(ServeError, match=message.replace("[", r"\[")):
                await infer(loans, request(rows) | {name: array})
        with pytest.raises(ServeError, match="input 'years': NaN or infinity"):
            await infer(loans, request(rows) | {"years": np.array([1.0, np.nan, 2, 3])})
        missing = request(rows)
        del missing["state"]
        with pytest.raises(ServeError, match="missing input 'state' \\(column 'state' of "
                           "argument 'frame'\\)"):  # fmt: skip
            await infer(loans, missing)
        with pytest.raises(ServeError, match="unknown input 'colour'"):
            await infer(loans, request(rows) | {"colour": np.zeros(4)})
        with pytest.raises(ServeError, match="input 'rate' has 3 rows where earlier"):
            await infer(loans, request(rows) | {"rate": np.zeros(3)})
        with pytest.raises(ServeError, match="unknown output 'proba'"):
            await loans.infer(request(rows), parameters={}, outputs=["proba"])
        await repository.close()

    run(main)


def test_an_empty_request_answers_as_the_save_can(models: Models, root: Path) -> None:
    """0 rows: the compiled code hands an empty batch to the original function; a save
    without a pickle does not hold it, so the request is refused saying so."""

    async def main() -> None:
        repository = await opened(root)
        with pytest.raises(ServeError, match="empty batch"):
            await infer(repository.get("loans"), request(models.fresh.iloc[:0]))
        await repository.close()

    run(main)


def test_top_k_returns_the_best_rows_of_the_request(models: Models, root: Path) -> None:
    rows = models.cascade_rows
    inputs = {c: rows[c].to_numpy() for c in rows}

    async def main() -> None:
        repository = await opened(root)
        cascade = repository.get("cascade")
        for k in (1, 5, 400):
            got = await infer(cascade, inputs, parameters={"top_k": k})
            best = models.fast.top_k(k, rows, models.cascade_model)
            np.testing.assert_array_equal(got["top_k_rows"], best)
            np.testing.assert_array_equal(
                got["predict"], models.fast.exact(rows.iloc[best], models.cascade_model)
            )
            assert cascade.table is not None  # the same request kept as JSON lists
            table = tuple(rows[name].tolist() for name in cascade.table.names)
            listed = await infer(cascade, {}, parameters={"top_k": k}, table=table)
            for name, array in got.items():
                np.testing.assert_array_equal(listed[name], array)
        with pytest.raises(ServeError, match="'top_k' must be a positive integer"):
            await infer(cascade, inputs, parameters={"top_k": 0})
        with pytest.raises(ServeError, match="only as an optimized pipeline"):
            await infer(repository.get("loans"), request(models.fresh), parameters={"top_k": 2})
        await repository.close()

    run(main)


def test_unknown_models_and_versions_are_not_found(root: Path) -> None:
    async def main() -> None:
        repository = await opened(root)
        with pytest.raises(NotFound, match="unknown model 'nope'"):
            repository.get("nope")
        with pytest.raises(NotFound, match="model 'loans' has no version '7'"):
            repository.get("loans", "7")
        with pytest.raises(NotFound):
            await repository.load("nope")
        await repository.close()
        with pytest.raises(NotReady, match="closed"):
            repository.get("loans")

    run(main)


def test_a_model_is_not_ready_while_it_loads(
    models: Models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models.loans.save(tmp_path / "loans" / "1")

    release = threading.Event()
    load = repository_module.persist.load

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return load(*args, **kwargs)

    monkeypatch.setattr(repository_module.persist, "load", slow_load)

    async def main() -> None:
        repository = Repository(tmp_path)
        with pytest.raises(NotReady, match="loading"):
            repository.get("loans")
        assert not repository.ready()
        release.set()
        await repository.load("loans")
        assert repository.ready() and repository.get("loans").version == "1"
        await repository.close()

    run(main)


def test_pickled_saves_load_only_trusted_or_signed(
    models: Models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models.loans_py.save(tmp_path / "py" / "1")
    rows = models.fresh.iloc[:20]

    async def main() -> None:
        repository = await opened(tmp_path)
        [entry] = repository.index()
        assert entry["state"] == "UNAVAILABLE" and "trust" in entry["reason"]
        with pytest.raises(NotReady, match="has no loaded version"):
            repository.get("py")
        await repository.close()
        repository = await opened(tmp_path, trust=True)
        got = (await infer(repository.get("py"), request(rows)))["predict"]
        np.testing.assert_array_equal(got, models.loans_py(rows))
        await repository.close()

    run(main)
    monkeypatch.setenv("WILLUMP_MLIR_SIGNING_KEY", "k" * 32)
    models.loans_py.save(tmp_path / "py" / "1")  # signed
    run(lambda: _serves(tmp_path, "py"))


async def _serves(root: Path, name: str) -> None:
    repository = await opened(root)
    assert repository.get(name).ready
    await repository.close()


def test_a_broken_new_version_leaves_the_old_one_serving(models: Models, tmp_path: Path) -> None:
    models.loans.save(tmp_path / "loans" / "1")
    rows = models.fresh.iloc[:5]

    loads: list[str] = []  # on_loaded: after every load, a failed one too

    async def main() -> None:
        repository = await opened(tmp_path, on_loaded=lambda: loads.append("loaded"))
        assert len(loads) == 1
        models.loans.save(tmp_path / "loans" / "2")
        (tmp_path / "loans" / "2" / "exact.mlir").write_text("broken", encoding="utf-8")
        with pytest.raises(ServeError, match="version 2"):
            await repository.load("loans")
        assert repository.get("loans").version == "1"
        states = {e["version"]: e["state"] for e in repository.index()}
        assert states == {"1": "READY", "2": "UNAVAILABLE"}
        with pytest.raises(NotReady, match="version 2 did not load"):
            repository.get("loans", "2")
        # the same version replaced by a save that fails to load (a pickle, not trusted):
        # the loaded one keeps serving
        shutil.rmtree(tmp_path / "loans" / "2")
        models.loans_py.save(tmp_path / "loans" / "1")
        with pytest.raises(ServeError, match="version 1: kept: the new save failed to load"):
            await repository.load("loans")
        assert len(loads) == 3
        model = repository.get("loans")
        assert model.version == "1" and model.ready
        np.testing.assert_array_equal((await infer(model, request(rows)))["predict"],
                                      models.loans(rows))  # fmt: skip
        await repository.close()

    run(main)


def test_a_load_the_workers_do_not_agree_on_swaps_nothing(models: Models, tmp_path: Path) -> None:
    """``load(agree=...)`` (a worker of ``--workers N``): what the load read is reported, and
    swapped in only when the parent agrees; else the loaded versions keep serving."""
    models.loans.save(tmp_path / "loans" / "1")
    rows = models.fresh.iloc[:5]

    async def main() -> None:
        repository = await opened(tmp_path)
        models.loans.save(tmp_path / "loans" / "2")
        (tmp_path / "loans" / "3").mkdir()  # no save: it fails
        outcomes: list[dict[str, Any]] = []

        async def refuse(outcome: dict[str, Any]) -> str:
            outcomes.append(outcome)
            return "another worker read something else"

        with pytest.raises(ServeError, match="another worker read something else"):
            await repository.load("loans", agree=refuse)
        assert outcomes == [{"kept": False, "failed": ["3"], "empty": False}]
        model = repository.get("loans")
        assert model.version == "1" and model.ready
        np.testing.assert_array_equal((await infer(model, request(rows)))["predict"],
                                      models.loans(rows))  # fmt: skip
        states = {e["version"]: e["state"] for e in repository.index()}
        assert states == {"1": "READY", "2": "UNAVAILABLE", "3": "UNAVAILABLE"}

        async def accept(outcome: dict[str, Any]) -> str:
            return ""

        with pytest.raises(ServeError, match="version 3"):  # as without workers
            await repository.load("loans", agree=accept)
        assert repository.get("loans").version == "2"
        await repository.close()

    run(main)


def test_reload_under_load_fails_no_request(models: Models, tmp_path: Path) -> None:
    """Requests run without pause while version 2 appears and version 1 is replaced."""
    models.loans.save(tmp_path / "loans" / "1")
    rows = models.fresh.iloc[:3]
    expected = models.loans(rows)

    async def main() -> None:
        repository = await opened(tmp_path, trust=True)
        served: list[str] = []
        stop = asyncio.Event()

        async def client() -> None:
            while not stop.is_set():
                model = repository.get("loans")
                got = await infer(model, request(rows))
                np.testing.assert_array_equal(got["predict"], expected)
                served.append(model.version)

        clients = [asyncio.create_task(client()) for _ in range(8)]
        await asyncio.sleep(0.05)
        models.loans.save(tmp_path / "loans" / "2")
        await repository.load("loans")
        await asyncio.sleep(0.05)
        first = repository.get("loans", "2")
        models.loans.save(tmp_path / "loans" / "2", pickle=True)  # changed: loaded again
        await repository.load("loans")
        assert repository.get("loans", "2") is not first and not first.ready
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*clients)  # any failed request raises here
        assert served[-1] == "2" and "1" in served
        await repository.close()

    run(main)


def test_unload_and_load_again(models: Models, root: Path) -> None:
    async def main() -> None:
        repository = await opened(root)
        await repository.unload("text")
        with pytest.raises(NotFound, match="unloaded"):
            repository.get("text")
        assert {"name": "text", "version": "", "state": "UNAVAILABLE", "reason": "unloaded"} \
            in repository.index()  # fmt: skip
        await repository.load("text")
        assert repository.get("text").ready
        await repository.close()

    run(main)


def test_config_sets_limits_and_output_names(models: Models, tmp_path: Path) -> None:
    models.loans.save(tmp_path / "loans" / "1")
    (tmp_path / "loans" / CONFIG).write_text(json.dumps(
        {"outputs": ["risk"], "row_limit": 10, "max_batch": 8, "max_latency_ms": 20}
    ))  # fmt: skip
    rows = models.fresh.iloc[:4]

    async def main() -> None:
        repository = await opened(tmp_path)
        model = repository.get("loans")
        assert model.outputs == [TensorSpec("risk", "FP64", [-1])]
        got = await infer(model, request(rows))
        np.testing.assert_array_equal(got["risk"], models.loans(rows))
        with pytest.raises(TooLarge, match="11 rows in one request"):
            await infer(model, request(models.fresh.iloc[:11]))
        (tmp_path / "loans" / CONFIG).write_text(json.dumps({"max_batch": "many"}))
        with pytest.raises(ServeError, match="'max_batch' must be a positive integer"):
            await repository.load("loans")
        assert repository.get("loans").outputs[0].name == "risk"  # the loaded config stays
        (tmp_path / "loans" / CONFIG).write_text(json.dumps({"colour": 1}))
        with pytest.raises(ServeError, match="unknown key 'colour'"):
            await repository.load("loans")
        await repository.close()

    run(main)


def test_a_cascade_saved_without_a_pickle_takes_the_data_arguments_only(
    models: Models, tmp_path: Path
) -> None:
    """Regression: each program of a loaded cascade had markers of its own for the bound
    arguments, so the cheap program refused the exact program's: ``loaded(frame)`` raised."""
    models.fast.save(tmp_path / "fast")
    loaded = wm.load(tmp_path / "fast")
    assert loaded.cascaded and not (tmp_path / "fast" / "objects.pkl").exists()
    rows = models.cascade_rows
    np.testing.assert_array_equal(loaded(rows), models.fast(rows, models.cascade_model))
    np.testing.assert_array_equal(loaded.top_k(7, rows),
                                  models.fast.top_k(7, rows, models.cascade_model))  # fmt: skip


def test_handoffs_are_exported_by_reason(models: Models) -> None:
    version = ModelVersion("text", "1", models.text, ModelConfig())
    metrics = Metrics()
    metrics.watch(lambda: [version])
    name = version.inputs[0].name
    docs = ["great plot", "ΟΔΟΣ good", ""]  # a capital sigma's lowercase depends on its context
    result = run(lambda: infer(version, {name: np.array(docs, dtype=object)}))
    with pytest.raises(ServeError, match="empty batch"):  # the original runs, and refuses it
        run(lambda: infer(version, {name: np.array([], dtype=object)}))
    text = metrics.render().decode()
    rows = 'willump_handoff_rows_total{model="text",reason="text-context",version="1"} 1.0'
    calls = 'willump_handoff_calls_total{model="text",reason="empty",version="1"} 1.0'
    assert rows in text and calls in text, text
    np.testing.assert_array_equal(next(iter(result.values())), models.text(docs))
