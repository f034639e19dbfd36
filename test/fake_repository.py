"""A stand-in for the model repository (``willump_mlir.serve.repository``'s interface) with
models no real pipeline gives on demand, for what the HTTP side does around them:
``sleepy`` (echoes ``x`` after ``parameters["sleep"]`` seconds), ``busy`` (its queue is
always full) and ``broken`` (raises an unexpected exception).

``python fake_repository.py`` serves it on a free port."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from willump_mlir.serve.errors import NotFound, Overloaded
from willump_mlir.serve.signature import TensorSpec

X = [TensorSpec("x", "FP64", [-1])]


class FakeModel:
    platform = "fake"
    table = None  # its requests are decoded input by input

    def __init__(self, name: str) -> None:
        self.name, self.version, self.ready = name, "1", True
        self.inputs, self.outputs = X, [TensorSpec("echo", "FP64", [-1])]
        self.running: set[asyncio.Task[dict[str, np.ndarray]]] = set()  # (the loop's refs are weak)

    async def infer(
        self, inputs: dict[str, np.ndarray], *, parameters: dict[str, Any], outputs: Any,
        table: None = None,
    ) -> dict[str, np.ndarray]:  # fmt: skip
        if self.name == "broken":
            raise RuntimeError("boom")
        if self.name == "busy":
            raise Overloaded("model 'busy': the queue is full", retry_after=0.2)
        seconds = float(parameters.get("sleep", 0))
        if seconds:  # the request is in flight: a test may wait for this line in the log
            print(f"{self.name}: sleeping {seconds} s", file=sys.stderr, flush=True)
        await asyncio.sleep(seconds)
        return {"echo": inputs["x"]}

    def enqueue(
        self, inputs: dict[str, np.ndarray], parameters: dict[str, Any], outputs: Any,
        table: None, done: Callable[[dict[str, np.ndarray] | None, Exception | None], None],
    ) -> None:  # fmt: skip
        """``infer``, its answer told to ``done`` (as ``ModelVersion.enqueue``)."""
        task = asyncio.ensure_future(self.infer(inputs, parameters=parameters, outputs=outputs))
        self.running.add(task)

        def answered(task: asyncio.Task[dict[str, np.ndarray]]) -> None:
            self.running.discard(task)
            error = task.exception()
            done(None, error) if isinstance(error, Exception) else done(task.result(), None)

        task.add_done_callback(answered)


class FakeRepository:
    def __init__(self, *, on_batch: Any = None) -> None:
        self.models = {name: FakeModel(name) for name in ("sleepy", "busy", "broken")}

    def get(self, name: str, version: str | None = None) -> FakeModel:
        model = self.models.get(name)
        if model is None or version not in (None, model.version):
            raise NotFound(f"unknown model '{name}'" + (f" version {version}" if version else ""))
        return model

    def index(self) -> list[dict[str, str]]:
        return [{"name": n, "version": "1", "state": "READY", "reason": ""} for n in self.models]

    def ready(self) -> bool:
        return True

    def loaded(self) -> list[FakeModel]:
        return []

    async def close(self) -> None:
        return None


if __name__ == "__main__":
    from willump_mlir.serve.app import App, run

    raise SystemExit(run(App(lambda on_batch: FakeRepository(on_batch=on_batch)), port=0))
