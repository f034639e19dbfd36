"""The Ray Serve peer of ``bench.serving``: a KServe V2 table endpoint with ``@serve.batch``.

    python -m bench.serving_ray --port P --work DIR --model sklearn|willump

Starts a local Ray instance of its own (2 CPUs, a 100 MB object store, no dashboard, usage
stats off), one replica answering ``POST /v2/models/lending_club/infer`` (JSON table requests:
one input per column) and ``GET /v2/health/ready``, written the way a Ray Serve user would:
the request becomes a DataFrame, ``@serve.batch`` concatenates the frames of concurrent
requests into one model call. ``--model sklearn`` scores with the fitted Pipeline (joblib);
``--model willump`` with the compiled pipeline loaded from the repository's save, so the gap
to ``willump serve`` is Ray Serve's own cost. Runs until SIGTERM, then shuts Ray down.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MODEL = "lending_club"


def frame_from_request(request: dict[str, Any]) -> pd.DataFrame:
    """A V2 table request (JSON, one input per column) as the DataFrame the model takes."""
    return pd.DataFrame({i["name"]: i["data"] for i in request["inputs"]})


def build_app(work: Path, model: str, max_batch_size: int, wait_s: float) -> Any:
    """The Ray Serve application (one deployment)."""
    from ray import serve
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    @serve.deployment(max_ongoing_requests=256, num_replicas=1)
    class V2Table:
        def __init__(self) -> None:
            if model == "willump":
                import willump_mlir as wm

                self.score = wm.load(work / "repository" / MODEL / "1")
            else:
                import joblib

                pipeline = joblib.load(work / "mlserver" / MODEL / "model.joblib")
                self.score = lambda frame: pipeline.predict_proba(frame)[:, 1]

        @serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=wait_s)
        async def predict(self, frames: list[pd.DataFrame]) -> list[np.ndarray]:
            scores = self.score(
                pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            )
            bounds = np.cumsum([0] + [len(f) for f in frames])
            return [scores[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

        async def __call__(self, request: Request) -> Response:
            if request.method == "GET":
                return Response(status_code=200)
            body = await request.json()
            scores = await self.predict(frame_from_request(body))
            return JSONResponse(
                {
                    "model_name": MODEL,
                    "outputs": [
                        {
                            "name": "predict",
                            "shape": [len(scores)],
                            "datatype": "FP64",
                            "data": scores.tolist(),
                        }
                    ],
                }
            )

    return V2Table.bind()


def main() -> int:
    """Start Ray and the app; block until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--model", choices=("sklearn", "willump"), default="sklearn")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--batch-wait-s", type=float, default=0.005)
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from ray import serve

    ray.init(
        num_cpus=2,
        object_store_memory=100 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
    )
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    try:
        serve.start(
            http_options={"host": "127.0.0.1", "port": args.port},
            logging_config={"enable_access_log": False},
        )
        app = build_app(Path(args.work), args.model, args.max_batch_size, args.batch_wait_s)
        serve.run(app, name="bench", route_prefix="/v2", blocking=False)
        print("READY", flush=True)
        done.wait()
    finally:
        serve.shutdown()
        ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
