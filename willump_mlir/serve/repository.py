"""The model repository ``willump serve`` serves: saved pipelines, their versions and configs.

Layout: one folder per model, one subfolder per version named by a positive integer, each
a directory written by ``pipeline.save(path)`` (``CompiledPipeline`` or
``OptimizedPipeline``), plus an optional ``willump-serve.json`` per model::

    repository/
      credit/
        willump-serve.json      {"max_batch": 256, "max_latency_ms": 50, ...}
        1/  manifest.json, blobs.npz, exact.mlir, checksums.json, ...
        2/  ...

A save is read with ``wm.load``'s trust model: a save holding a pickle loads only when
signed with ``$WILLUMP_MLIR_SIGNING_KEY`` or when the repository is opened with
``trust=True``. Loading runs in a background thread; a model is ``NotReady`` until its
first load ends. Loading again (``load(name)``) reads the new and changed versions (a
version's identity is its ``checksums.json`` and the config) and swaps them in at once:
a version that fails to load leaves the one it would replace serving, and a replaced
version answers every request it already took.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from willump_mlir import persist
from willump_mlir.pipelines import CompiledPipeline, OptimizedPipeline
from willump_mlir.runtime.compiled import take_data_rows
from willump_mlir.serve import native
from willump_mlir.serve.batching import Batcher, BatchPolicy, BatchRecord
from willump_mlir.serve.errors import NotFound, NotReady, ServeError, TooLarge
from willump_mlir.serve.signature import (
    TOP_K_ROWS,
    ServeSignature,
    TensorSpec,
    concat,
    split,
)

__all__ = ["CONFIG", "ModelConfig", "ModelVersion", "Repository", "TensorSpec"]

log = logging.getLogger(__name__)

CONFIG = "willump-serve.json"
PLATFORM = "willump-mlir"
Pipeline = CompiledPipeline | OptimizedPipeline


@dataclass(frozen=True)
class ModelConfig:
    """A model's ``willump-serve.json`` (every key optional)."""

    max_batch: int = 4096  # rows per native call (and no more than half the objective)
    max_wait_ms: float = 1000.0  # the most a request may wait (predicted) for its batch
    max_latency_ms: float = 50.0  # the latency objective: a batch's compute fits half of it
    queue_limit: int = 1024  # requests waiting; past it, Overloaded (503, Retry-After)
    row_limit: int = 100_000  # rows per request; past it, TooLarge (413)
    batching: bool = True  # False: every request is its own native call
    outputs: tuple[str, ...] | None = None  # names of the outputs, in the result's order
    top_k: int | None = None  # the top_k of requests that do not give one

    @staticmethod
    def read(path: Path) -> ModelConfig:
        """The config at ``path`` (the defaults if there is none); ``ValueError`` naming the
        file and key for unknown keys and values of the wrong type."""
        if not path.exists():
            return ModelConfig()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: not readable JSON ({error})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: must hold a JSON object")
        known = {f.name: f for f in fields(ModelConfig)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{path}: unknown key {unknown[0]!r}; known: {', '.join(known)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "outputs":
                if value is not None and not (isinstance(value, list) and value
                                              and all(isinstance(v, str) for v in value)):
                    raise ValueError(f"{path}: 'outputs' must be a list of names")  # fmt: skip
                values[key] = None if value is None else tuple(value)
            elif key == "batching":
                if not isinstance(value, bool):
                    raise ValueError(f"{path}: 'batching' must be true or false")
                values[key] = value
            elif key == "top_k" and value is None:
                values[key] = None
            elif key.endswith("_ms"):
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValueError(f"{path}: {key!r} must be a positive number")
                values[key] = float(value)
            else:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{path}: {key!r} must be a positive integer")
                values[key] = value
        return ModelConfig(**values)

    def policy(self) -> BatchPolicy:
        return BatchPolicy(self.max_batch, self.max_wait_ms / 1000, self.max_latency_ms / 1000,
                           self.queue_limit, self.batching)  # fmt: skip


class Payload:
    """One request as the worker thread runs it: its data arguments, or its inputs still to
    convert with its batch's (``ServeSignature.columns``), and top-K's K."""

    __slots__ = ("arguments", "columns", "rows", "top_k")

    def __init__(
        self,
        arguments: tuple[Any, ...] | None,
        columns: tuple[np.ndarray, ...] | None,
        rows: int,
        top_k: int | None,
    ):
        self.arguments = arguments
        self.columns = columns
        self.rows = rows
        self.top_k = top_k


def refusal(error: Exception) -> Exception:
    """A failed request's error: a ``ServeError`` as it is, else the pipeline's refusal of
    the request's rows as a ``ServeError`` (400) naming it."""
    if isinstance(error, ServeError):
        return error
    notes = "".join(f"; {note}" for note in getattr(error, "__notes__", ()))
    refused = ServeError(f"{type(error).__name__}: {error}{notes}")
    refused.__cause__ = error
    return refused


class ModelVersion:
    """One loaded version of a model: its metadata and ``infer``."""

    def __init__(
        self,
        name: str,
        version: str,
        pipeline: Pipeline,
        config: ModelConfig,
        on_batch: Callable[[BatchRecord], None] | None = None,
    ):
        self.name = name
        self.version = version
        self.pipeline = pipeline
        self.config = config
        self.platform = PLATFORM
        self.signature = ServeSignature(pipeline.signature(), config.outputs)
        #: the inputs a JSON request may send as a table kept as parsed (``decode_request``)
        self.table = self.signature.table
        self.inputs: list[TensorSpec] = self.signature.inputs
        self.outputs: list[TensorSpec] = self.signature.outputs
        self.output_names = [t.name for t in self.outputs]
        if any(t.datatype == "BYTES" for t in self.inputs):
            native.warm()  # here, in the loader thread: not in the first request's time
        if config.top_k is not None:
            self._check_top_k(config.top_k)
        self.ready = True
        self.batcher = Batcher(name, version, self.call, config.policy(), self.counters,
                               on_batch)  # fmt: skip

    async def infer(
        self,
        inputs: dict[str, np.ndarray],
        *,
        parameters: dict[str, Any] | None = None,
        outputs: list[str] | None = None,
        table: tuple[list[Any], ...] | None = None,
    ) -> dict[str, np.ndarray]:
        """The outputs for a request's decoded ``inputs`` (see ``ServeSignature``), rows
        first; ``parameters["top_k"]`` (or the config's ``top_k``) asks for the K best rows
        of the request, best first, with their row numbers as ``top_k_rows``. ``table``:
        the request's inputs as ``decode_request`` kept them for the signature's ``table``
        (then ``inputs`` is empty). Raises
        ``ServeError`` naming a bad input or output, ``TooLarge`` past the row limit,
        ``Overloaded`` when the queue is full."""
        payload, alone, available = self.prepare(inputs, parameters, outputs, table)
        try:
            result = await self.batcher.submit(payload, payload.rows, alone=alone)
        except Exception as error:
            raise refusal(error)  # noqa: B904 - refusal names the cause
        return self.named(result, payload, outputs, available)

    def enqueue(
        self,
        inputs: dict[str, np.ndarray],
        parameters: dict[str, Any] | None,
        outputs: list[str] | None,
        table: tuple[list[Any], ...] | None,
        done: Callable[[dict[str, np.ndarray] | None, Exception | None], None],
    ) -> None:
        """``infer`` without a task or future: the request checked and queued here (raising
        as ``infer`` does), ``done(outputs, None)`` or ``done(None, error)`` called on the
        event loop's thread when its batch ends."""
        payload, alone, available = self.prepare(inputs, parameters, outputs, table)

        def answered(ok: bool, value: Any) -> None:
            if not ok:
                done(None, refusal(value))
                return
            try:
                named = self.named(value, payload, outputs, available)
            except Exception as error:  # noqa: BLE001 - the request's answer, as infer raises it
                done(None, error)
                return
            done(named, None)

        self.batcher.enqueue(payload, payload.rows, answered, alone=alone)

    def prepare(
        self,
        inputs: dict[str, np.ndarray],
        parameters: dict[str, Any] | None,
        outputs: list[str] | None,
        table: tuple[list[Any], ...] | None,
    ) -> tuple[Payload, bool, list[str]]:
        """A request's payload, whether it runs alone and the outputs it may ask for."""
        top_k = parameters.get("top_k", self.config.top_k) if parameters else self.config.top_k
        available = self.output_names
        if top_k is not None:
            self._check_top_k(top_k)
            available = [*available, TOP_K_ROWS]
        for name in outputs or ():
            if name not in available:
                raise ServeError(f"unknown output {name!r}; the model's outputs are "
                                 f"{', '.join(available)}")  # fmt: skip
        signature = self.signature
        if table is not None:
            columns: tuple[tuple[Any, ...], int] | None = (table, len(table[0]))
        else:
            columns = signature.columns(inputs)
        if top_k is not None or columns is None:
            arguments, rows = signature.arguments(inputs) if table is None else \
                signature.convert(signature.arrays(table))  # fmt: skip
            payload = Payload(arguments, None, rows, top_k)
        else:
            rows = columns[1]
            payload = Payload(None, columns[0], rows, None)
        if rows > self.config.row_limit:
            raise TooLarge(f"{rows} rows in one request, over model {self.name!r}'s limit of "
                           f"{self.config.row_limit}")  # fmt: skip
        alone = top_k is not None or rows == 0 or not self.pipeline.row_wise
        return payload, alone, available

    def named(
        self, result: Any, payload: Payload, outputs: list[str] | None, available: list[str]
    ) -> dict[str, np.ndarray]:
        """A request's named outputs from its result (those it asked for)."""
        if payload.top_k is not None:
            return {name: result[name] for name in outputs or available if name in result}
        named = self.signature.outputs_of(result)
        return {name: named[name] for name in outputs} if outputs else named

    def _check_top_k(self, k: object) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ServeError(f"parameter 'top_k' must be a positive integer, got {k!r}")
        if not isinstance(self.pipeline, OptimizedPipeline):
            raise ServeError(f"model {self.name!r} answers top_k only as an optimized pipeline "
                             "(wm.optimize); this one is compiled")  # fmt: skip
        if not self.signature.rankable:
            raise ServeError(f"model {self.name!r} returns more than one number a row: "
                             "top_k ranks one score a row")  # fmt: skip

    def call(self, payloads: list[Payload]) -> list[Any]:
        """Results for ``payloads`` from one call of the pipeline (in the worker thread)."""
        if len(payloads) == 1 and payloads[0].top_k is not None:
            return [self.top(payloads[0])]
        signature = self.signature
        if all(p.columns is not None for p in payloads):
            arguments = signature.combine([p.columns for p in payloads])  # type: ignore[misc]
        else:
            parts = [signature.convert(signature.arrays(p.columns))[0] if p.columns is not None
                     else p.arguments
                     for p in payloads]  # fmt: skip
            arguments = tuple(concat([a[k] for a in parts]) for k in range(len(signature.data)))
        result = self.pipeline(*arguments)
        if len(payloads) == 1:
            return [result]
        return split(result, [p.rows for p in payloads])

    def top(self, payload: Payload) -> dict[str, np.ndarray]:
        """The ``top_k`` best rows of a request: their exact results and row numbers."""
        assert isinstance(self.pipeline, OptimizedPipeline) and payload.top_k is not None
        assert payload.arguments is not None  # top-K requests are converted as they come
        rows = self.pipeline.top_k(payload.top_k, *payload.arguments)
        data = self.pipeline.exact.arguments
        data = [a for a in data if a.kind != "bound"]
        best = self.pipeline.exact(*take_data_rows(data, payload.arguments, rows))
        return {**self.signature.outputs_of(best), TOP_K_ROWS: np.asarray(rows, dtype=np.int64)}

    def counters(self) -> tuple[int, tuple[int, int] | None]:
        """Rows run in Python so far, and a cascade's (rows, settled rows) so far."""
        pipeline = self.pipeline
        if isinstance(pipeline, OptimizedPipeline):
            return pipeline.rows_in_python, pipeline.settled() if pipeline.cascaded else None
        return pipeline.rows_in_python, None

    def handoffs(self) -> tuple[Counter[str], Counter[str]]:
        """Rows and whole calls its pipeline handed to Python so far, by reason (the counts
        ``explain()`` shows; a row flagged for two reasons counts under both)."""
        pipeline = self.pipeline
        programs = [pipeline] if isinstance(pipeline, CompiledPipeline) else [
            p for p in (pipeline.exact, pipeline.approx, pipeline.rest) if p is not None
        ]
        rows: Counter[str] = Counter()
        calls: Counter[str] = Counter()
        for program in programs:
            with program.handoffs.lock:
                rows.update(program.handoffs.rows)
                calls.update(program.handoffs.calls)
        return rows, calls

    def retire(self) -> None:
        """Mark the version replaced or unloaded; it answers the requests it already has."""
        self.ready = False
        self.batcher.retire()

    def __repr__(self) -> str:
        return f"<ModelVersion {self.name}/{self.version}>"


@dataclass
class VersionState:
    """What ``index()`` shows of one version folder."""

    state: str  # READY | LOADING | UNAVAILABLE
    reason: str = ""
    identity: str = ""  # of the save and config that the loaded version was read from


@dataclass
class Swap:
    """What one load of a model read, to swap in: its versions (None: keep the loaded ones,
    the config did not read) and their states, and the model's reason."""

    versions: dict[str, ModelVersion] | None
    states: dict[str, VersionState]
    reason: str

    def outcome(self) -> dict[str, Any]:
        """What every worker's load of the same files must agree on: the versions that
        failed, whether the config did."""
        failed = sorted(v for v, s in self.states.items() if s.reason)
        return {"kept": self.versions is None, "failed": failed, "empty": bool(self.reason)}


class Model:
    """One model folder: its loaded versions (swapped as a whole) and their states."""

    def __init__(self) -> None:
        self.versions: dict[str, ModelVersion] = {}
        self.states: dict[str, VersionState] = {}
        self.loading: Future[Swap] | None = None
        self.loaded_once = False
        self.unloaded = False
        self.reason = ""  # why the model has no versions


def _version_key(version: str) -> int:
    return int(version)


class Repository:
    """The models of ``root`` (see the module docstring); opened, it starts loading every
    model folder in a background thread."""

    def __init__(
        self,
        root: Path | str,
        *,
        trust: bool = False,
        on_batch: Callable[[BatchRecord], None] | None = None,
        on_loaded: Callable[[], None] | None = None,
        unloaded: tuple[str, ...] = (),
    ):
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotFound(f"model repository {str(self.root)!r} is not a directory")
        self.trust = trust
        self.on_batch = on_batch
        #: called in the loader thread after each load (``willump serve``: ``settle_heap``)
        self.on_loaded = on_loaded
        self.lock = threading.Lock()
        self.loader = ThreadPoolExecutor(1, thread_name_prefix="willump-serve-load")
        self.models: dict[str, Model] = {}
        self.closed = False
        for folder in sorted(self.root.iterdir()):
            if folder.name in unloaded:  # unloaded by a client (a restarted worker)
                self.models.setdefault(folder.name, Model()).unloaded = True
            elif folder.is_dir() and not folder.name.startswith("."):
                self.start(folder.name)

    # region Loading

    def start(self, name: str, swap: bool = True) -> Future[Swap]:
        """Start (re)loading model ``name`` in the loader thread; ``swap=False``: without
        swapping the loaded versions in (``apply`` or ``discard`` the result)."""
        with self.lock:
            model = self.models.setdefault(name, Model())
            model.unloaded = False
            future = self.loader.submit(self._load, name, model, swap)
            model.loading = future
        return future

    def _load(self, name: str, model: Model, swap: bool) -> Swap:
        try:
            loaded = self.read(name, model)
            if swap:
                self.apply(model, loaded)
            return loaded
        finally:
            if self.on_loaded is not None:
                self.on_loaded()

    def read(self, name: str, model: Model) -> Swap:
        """Load the new and changed versions of ``name`` (loader thread), to swap in."""
        folder = self.root / name
        try:
            config = ModelConfig.read(folder / CONFIG)
            config_text = (folder / CONFIG).read_bytes() if (folder / CONFIG).exists() else b""
        except (OSError, ValueError) as error:
            return Swap(None, {}, f"config: {error}")
        found = sorted(
            (p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()
             and int(p.name) > 0),
            key=_version_key,
        ) if folder.is_dir() else []  # fmt: skip
        versions: dict[str, ModelVersion] = {}
        states: dict[str, VersionState] = {}
        for version in found:
            identity = _identity(folder / version, config_text)
            old = model.versions.get(version)
            old_state = model.states.get(version)
            if old is not None and old_state is not None and old_state.identity == identity:
                versions[version], states[version] = old, VersionState("READY", "", identity)
                continue
            with self.lock:  # a version that serves stays READY while its new save loads
                model.states[version] = VersionState("LOADING") if old is None else \
                    VersionState("READY", "loading a new save", old_state.identity if old_state
                                 else "")  # fmt: skip
            try:
                pipeline = persist.load(folder / version, trust=self.trust)
                loaded = ModelVersion(name, version, pipeline, config, self.on_batch)
            except Exception as error:  # a damaged, untrusted or unservable save
                reason = f"{type(error).__name__}: {error}"
                log.warning("model %s version %s did not load: %s", name, version, reason)
                if old is not None:  # the version it would replace keeps serving
                    versions[version] = old
                    states[version] = VersionState("READY", f"kept: the new save failed to "
                                                   f"load ({reason})", old_state.identity
                                                   if old_state else "")  # fmt: skip
                else:
                    states[version] = VersionState("UNAVAILABLE", reason)
                continue
            versions[version] = loaded
            states[version] = VersionState("READY", "", identity)
        return Swap(versions, states, "" if found else f"no version folders (1/, 2/, ...) in "
                    f"{folder}")  # fmt: skip

    def apply(self, model: Model, swap: Swap) -> None:
        """Swap the versions ``read`` loaded in, at once."""
        if swap.versions is None:
            self._keep(model, swap.reason)
            return
        with self.lock:
            retired = [v for k, v in model.versions.items() if swap.versions.get(k) is not v]
            model.versions = swap.versions
            model.states = swap.states
            model.loaded_once = True
            model.reason = swap.reason
        for old in retired:
            old.retire()

    def discard(self, model: Model, swap: Swap, why: str) -> None:
        """Leave the versions ``read`` loaded unused: the loaded ones keep serving, the new
        ones are unavailable, both with ``why``."""
        states = {version: VersionState("UNAVAILABLE", state.reason or why)
                  for version, state in swap.states.items()}  # fmt: skip
        for version in model.versions:
            old = model.states.get(version)
            states[version] = VersionState("READY", f"kept: {why}", old.identity if old else "")
        with self.lock:
            model.states = states
            model.loaded_once = True
            model.reason = why

    def _keep(self, model: Model, reason: str) -> None:
        """A load that could not start (a bad config): the loaded versions keep serving."""
        with self.lock:
            model.loaded_once = True
            model.reason = reason
            for state in model.states.values():
                if state.state == "READY":
                    state.reason = f"kept: {reason}"

    async def load(
        self, name: str, agree: Callable[[dict[str, Any]], Awaitable[str]] | None = None
    ) -> None:
        """Load (or reload) model ``name``; ``NotFound`` without its folder, ``ServeError``
        if a version failed to load (the versions it would replace keep serving).

        ``agree`` (a worker of ``--workers N``): called with ``Swap.outcome()`` once the
        versions are read, before they swap in; they do if it returns "", else they are
        discarded with what it returned as the reason."""
        self._open()
        if not (self.root / name).is_dir() or name.startswith("."):
            raise NotFound(f"no model folder {name!r} in the repository")
        swap = await asyncio.wrap_future(self.start(name, swap=agree is None))
        model = self.models[name]
        if agree is not None:
            why = await agree(swap.outcome())
            if why:
                self.discard(model, swap, why)
            else:
                self.apply(model, swap)
        failed = {v: s.reason for v, s in model.states.items() if s.reason}
        if model.reason and not model.versions:
            raise ServeError(f"model {name!r} did not load: {model.reason}")
        if failed:
            version, reason = next(iter(failed.items()))
            raise ServeError(f"model {name!r} version {version}: {reason}")

    async def unload(self, name: str) -> None:
        """Stop serving model ``name`` (its queued requests are still answered)."""
        self._open()
        model = self.models.get(name)
        if model is None:
            raise NotFound(f"unknown model {name!r}")
        if model.loading is not None:
            await asyncio.wrap_future(model.loading)
        with self.lock:
            retired = list(model.versions.values())
            model.versions = {}
            model.states = {}
            model.unloaded = True
        for version in retired:
            version.retire()
        await asyncio.gather(*(v.batcher.close() for v in retired))

    # endregion
    # region Serving

    def get(self, name: str, version: str | None = None) -> ModelVersion:
        """Version ``version`` of model ``name``, the highest loaded one when None;
        ``NotFound`` for an unknown (or unloaded) model or version, ``NotReady`` while it
        loads or when it failed to load."""
        self._open()
        model = self.models.get(name)
        if model is None:
            raise NotFound(f"unknown model {name!r}")
        if model.unloaded:
            raise NotFound(f"model {name!r} is unloaded (load it: POST "
                           f"/v2/repository/models/{name}/load)")  # fmt: skip
        versions = model.versions
        if version is None:
            if versions:
                return versions[max(versions, key=_version_key)]
            if not model.loaded_once:
                raise NotReady(f"model {name!r} is loading")
            reasons = [f"version {v}: {s.reason}" for v, s in model.states.items()]
            raise NotReady(f"model {name!r} has no loaded version: "
                           f"{'; '.join(reasons) or model.reason}")  # fmt: skip
        found = versions.get(version)
        if found is not None:
            return found
        state = model.states.get(version)
        if state is None:
            if not model.loaded_once:
                raise NotReady(f"model {name!r} is loading")
            raise NotFound(f"model {name!r} has no version {version!r}")
        if state.state == "LOADING":
            raise NotReady(f"model {name!r} version {version} is loading")
        raise NotReady(f"model {name!r} version {version} did not load: {state.reason}")

    def loaded(self) -> list[ModelVersion]:
        """Every loaded version of every model (for the metrics read at a scrape)."""
        return [v for m in list(self.models.values()) for v in list(m.versions.values())]

    def versions(self, name: str) -> list[str]:
        """The loaded versions of model ``name``, lowest first."""
        model = self.models.get(name)
        return sorted(model.versions, key=_version_key) if model else []

    def index(self) -> list[dict[str, str]]:
        """Every model folder's versions: name, version, state, reason (the repository
        extension's index)."""
        entries = []
        for name in sorted(self.models):
            model = self.models[name]
            if model.unloaded:
                entries.append({"name": name, "version": "", "state": "UNAVAILABLE",
                                "reason": "unloaded"})  # fmt: skip
                continue
            states = dict(model.states)
            if not states:
                state = "LOADING" if not model.loaded_once else "UNAVAILABLE"
                entries.append({"name": name, "version": "", "state": state,
                                "reason": model.reason})  # fmt: skip
            for version in sorted(states, key=_version_key):
                entries.append({"name": name, "version": version,
                                "state": states[version].state,
                                "reason": states[version].reason})  # fmt: skip
        return entries

    def ready(self) -> bool:
        """Open, and every model folder's first load has ended."""
        return not self.closed and all(m.loaded_once or m.unloaded for m in self.models.values())

    async def close(self) -> None:
        """Stop: wait for loads in flight, answer every queued request, stop the threads."""
        self.closed = True
        pending = [m.loading for m in self.models.values() if m.loading is not None]
        await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)
        self.loader.shutdown(wait=False)
        batchers = [v.batcher for m in self.models.values() for v in m.versions.values()]
        await asyncio.gather(*(b.close() for b in batchers))

    def _open(self) -> None:
        if self.closed:
            raise NotReady("the model repository is closed")

    # endregion


def _identity(folder: Path, config: bytes) -> str:
    """What a loaded version was read from: its ``checksums.json`` (every file's SHA-256)
    and the model's config."""
    digest = hashlib.sha256(config)
    try:
        digest.update((folder / persist.CHECKSUMS).read_bytes())
    except OSError:
        digest.update(b"no checksums")
    return digest.hexdigest()
