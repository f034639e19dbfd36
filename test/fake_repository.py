"""A small stand-in for the model repository (``willump_mlir.serve.repository``'s interface),
for testing the HTTP side alone: the saved pipelines of a repository directory loaded with
``wm.load`` and called on the request's columns, plus three models no real pipeline gives on
demand: ``sleepy`` (answers after ``parameters["sleep"]`` seconds), ``busy`` (its queue is
always full) and ``broken`` (raises an unexpected exception).

``python fake_repository.py ROOT [--token-file F]`` serves it on a free port, with the limits the
tests expect (1 MiB bodies, 5,000 rows)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from willump_mlir.serve.errors import NotFound, Overloaded, ServeError


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: list[int]


@dataclass
class BatchRecord:
    model: str
    version: str
    requests: int
    rows: int
    queue_seconds: list[float]
    compute_seconds: float
    rows_in_python: int
    settled_fraction: float | None
    errors: int


@dataclass
class FakeModel:
    name: str
    version: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    pipeline: Any = None
    on_batch: Any = None
    platform: str = "willump-mlir"
    ready: bool = True
    calls: list[int] = field(default_factory=list)

    async def infer(
        self, inputs: dict[str, np.ndarray], *, parameters: dict[str, Any], outputs: Any
    ) -> dict[str, np.ndarray]:
        if self.name == "broken":
            raise RuntimeError("boom")
        if self.name == "busy":
            raise Overloaded("model 'busy': the queue is full", retry_after=0.2)
        if self.name == "sleepy":
            await asyncio.sleep(float(parameters.get("sleep", 0)))
            return {"echo": inputs["x"]}
        for spec in self.inputs:
            if spec.name not in inputs:
                raise ServeError(f"model '{self.name}': input (column) '{spec.name}' is missing")
        if self.inputs[0].datatype == "BYTES" and len(self.inputs) == 1:
            result = self.pipeline(list(inputs[self.inputs[0].name].reshape(-1)))
        else:
            result = self.pipeline(pd.DataFrame({s.name: inputs[s.name] for s in self.inputs}))
        self.on_batch(
            BatchRecord(self.name, self.version, 1, len(result), [1e-4], 1e-3, 0, None, 0)
        )
        return {self.outputs[0].name: np.asarray(result)}


class FakeRepository:
    """`root`'s ``credit/1`` and ``reviews/1`` (none without a root), and the fake models."""

    def __init__(self, root: Path | None, *, on_batch: Any) -> None:
        x = [TensorSpec("x", "FP64", [-1])]
        self.models = {
            "sleepy": FakeModel("sleepy", "1", x, [TensorSpec("echo", "FP64", [-1])]),
            "busy": FakeModel("busy", "1", x, []),
            "broken": FakeModel("broken", "1", x, []),
        }
        if root is None:
            return
        from served_models import COLUMNS, credit_rows

        import willump_mlir as wm

        dtypes = {"f": "FP64", "i": "INT64", "O": "BYTES"}
        columns = credit_rows(2).dtypes
        credit_inputs = [TensorSpec(c, dtypes[columns[c].kind], [-1]) for c in COLUMNS]
        proba = [TensorSpec("predict", "FP64", [-1])]
        self.models["credit"] = FakeModel(
            "credit", "1", credit_inputs, proba, wm.load(root / "credit" / "1"), on_batch
        )
        docs = [TensorSpec("docs", "BYTES", [-1])]
        self.models["reviews"] = FakeModel(
            "reviews", "1", docs, proba, wm.load(root / "reviews" / "1"), on_batch
        )

    def get(self, name: str, version: str | None = None) -> FakeModel:
        model = self.models.get(name)
        if model is None or version not in (None, model.version):
            raise NotFound(f"unknown model '{name}'" + (f" version {version}" if version else ""))
        return model

    def index(self) -> list[dict[str, str]]:
        return [
            {"name": m.name, "version": m.version, "state": "READY", "reason": ""}
            for m in self.models.values()
        ]

    async def load(self, name: str) -> None:
        self.get(name).ready = True

    async def unload(self, name: str) -> None:
        self.get(name).ready = False

    def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


if __name__ == "__main__":
    import argparse

    from willump_mlir.serve.app import App, Options, run

    parser = argparse.ArgumentParser()
    parser.add_argument("root", help="the repository, or - for the fake models alone")
    parser.add_argument("--token-file", type=Path)
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20)
    parser.add_argument("--max-rows", type=int, default=5000)
    args = parser.parse_args()
    token = args.token_file.read_text().strip() if args.token_file else None
    options = Options(max_body_bytes=args.max_body_bytes, max_rows=args.max_rows, token=token)
    root = None if args.root == "-" else Path(args.root)
    app = App(lambda on_batch: FakeRepository(root, on_batch=on_batch), options)
    raise SystemExit(run(app, port=0, drain_timeout=10))
