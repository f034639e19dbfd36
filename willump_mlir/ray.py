"""Batch scoring of Ray Data datasets with a compiled or optimized pipeline (``wm.ray``).

```python
import ray
import willump_mlir as wm

scored = wm.ray.predict(ray.data.read_parquet("rows/"), compiled, output="p_bad")
scored.write_parquet("scored/")
```

The pipeline's pickled state is put in the object store once per driver (``shipped``);
the batch function (``Scorer``) carries its reference and digest, and the first task of
each worker process fetches it and unpickles it (``persist.unpickle``: machine code bound
without LLVM on a host of the same target); the process's later tasks find the pipeline by
its digest and fetch nothing. Batches arrive as Arrow
tables and reach the kernels without a DataFrame and without copies where Arrow allows it:
numeric columns without nulls and the bytes of string columns are read in place (see
``runtime.marshal.arrow_columns``). Each task uses the CPUs Ray assigned it
(``num_cpus``), not every core. Needs the ``ray`` extra (``pip install willump-mlir[ray]``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from willump_mlir.frontend import ArgumentSpec
from willump_mlir.pipelines import CompiledPipeline, OptimizedPipeline
from willump_mlir.runtime.marshal import InputError, arrow_columns, as_frame
from willump_mlir.runtime.plan import KernelStep, PythonStep, SelectStep

if TYPE_CHECKING:
    import ray.data

Pipeline = CompiledPipeline | OptimizedPipeline
DEFAULT_BATCH_SIZE = 65536  # rows per kernel call: 8192 cost 1.6x the CPU per row


@dataclass(frozen=True)
class Feed:
    """How one data argument is read from an Arrow batch: ``kind`` as ``ArgumentSpec.kind``
    (a frame of ``columns``, a column of str, or a 2-D float64 array of ``columns``)."""

    argument: str
    kind: str
    columns: tuple[str, ...]

    def value(self, batch: pa.Table) -> Any:
        """This argument's value for ``batch``, sharing Arrow's buffers where it can (a frame:
        its ``Columns``, see ``marshal.arrow_columns``)."""
        if self.kind == "frame":  # the DataFrame's columns, read in place (no DataFrame)
            return arrow_columns(batch, self.columns)
        if self.kind == "strings":
            return batch.column(self.columns[0]).to_pandas()
        columns = [batch.column(c) for c in self.columns]
        if len(columns) == 1 and not pa.types.is_floating(columns[0].type):  # a tensor column
            return np.asarray(columns[0].combine_chunks().to_numpy(zero_copy_only=False))
        return np.column_stack([c.to_numpy() for c in columns]).astype(np.float64, copy=False)


def data_arguments(pipeline: Pipeline) -> list[ArgumentSpec]:
    """The arguments a call passes (the bound ones are compiled in)."""
    compiled = pipeline.exact if isinstance(pipeline, OptimizedPipeline) else pipeline
    return [a for a in compiled.arguments if a.kind != "bound"]


def frame_columns(pipeline: Pipeline, spec: ArgumentSpec) -> set[str] | None:
    """The columns of the frame argument ``spec`` a call of ``pipeline`` reads: those its
    kernels and column selections read and those its code names (``spec.named``); None
    (every column of the example) where Python code or a matrix read takes the frame whole,
    where it is returned, where the result depends on its columns (``spec.ordered``), or
    for a cascade (``OptimizedPipeline``)."""
    if spec.ordered or not isinstance(pipeline, CompiledPipeline):
        return None
    value = f"arg{[a.name for a in data_arguments(pipeline)].index(spec.name)}"
    read = set(spec.named or ())
    if value in pipeline.plan.returns:
        return None
    for step in pipeline.plan.steps:
        if isinstance(step, PythonStep) and value in step.args:
            return None
        if isinstance(step, SelectStep) and step.source == value:
            read.update(step.columns)
        for buffer in step.inputs if isinstance(step, KernelStep) else ():
            if buffer["value"] == value:
                if "column" not in buffer:  # the frame as a matrix
                    return None
                read.add(buffer["column"])
    return read


def feeds(
    pipeline: Pipeline,
    schema: Sequence[str],
    inputs: Mapping[str, str | Sequence[str]] | None = None,
) -> list[Feed]:
    """How each data argument of ``pipeline`` is read from batches with columns ``schema``.

    ``inputs`` maps an argument's name to its column (a str argument, or a 2-D array in one
    tensor column) or columns (a frame, a 2-D array). Without it, a frame argument takes
    the columns of the example it was compiled with (those the dataset has, where the code
    reads only some: ``frame_columns``; a training frame's label column need not be there),
    and any other argument the column of its own name, or the only column. ``InputError``
    names missing columns."""
    if not isinstance(pipeline, CompiledPipeline | OptimizedPipeline):
        raise TypeError(
            f"pipeline must be what wm.compile or wm.optimize returns (or wm.load), got "
            f"{type(pipeline).__name__}"
        )
    arguments = data_arguments(pipeline)
    inputs = dict(inputs or {})
    if unknown := sorted(set(inputs) - {a.name for a in arguments}):
        raise InputError(f"inputs names {unknown}, not data arguments of "
                         f"{pipeline.__name__}: {[a.name for a in arguments]}")  # fmt: skip
    result = []
    for spec in arguments:
        given = inputs.get(spec.name)
        if given is not None:
            columns = (given,) if isinstance(given, str) else tuple(given)
        elif spec.kind == "frame":
            columns = tuple(name for name, _ in spec.columns or ())
            if (read := frame_columns(pipeline, spec)) is not None:
                columns = tuple(c for c in columns if c in schema or c in read)
        elif spec.name in schema or len(schema) == 1:
            columns = (spec.name if spec.name in schema else schema[0],)
        else:
            raise InputError(
                f"argument {spec.name!r}: no column of that name in the dataset "
                f"({list(schema)}); name its column with inputs={{{spec.name!r}: ...}}"
            )
        if spec.kind == "strings" and len(columns) != 1:
            raise InputError(f"argument {spec.name!r} (str documents) reads one column, "
                             f"got {list(columns)}")  # fmt: skip
        if missing := [c for c in columns if c not in schema]:
            raise InputError(
                f"argument {spec.name!r}: the dataset has no column(s) {missing} "
                f"(it has {list(schema)})"
            )
        result.append(Feed(spec.name, spec.kind, columns))
    return result


def output_names(output: str | Sequence[str], width: int) -> list[str]:
    """Column names for a result of ``width`` columns (0: one value per row)."""
    if isinstance(output, str):
        return [output] if width == 0 else [f"{output}_{j}" for j in range(width)]
    names = list(output)
    if len(names) != max(width, 1):
        raise InputError(f"output names {len(names)} column(s) {names}, but the pipeline "
                         f"returns {max(width, 1)} per row")  # fmt: skip
    return names


def append_result(batch: pa.Table, result: Any, output: str | Sequence[str]) -> pa.Table:
    """``batch`` with the pipeline's ``result`` (one value or one row per row) appended as
    column(s) named by ``output``: as Arrow infers them (a float NaN stays NaN), or objects
    Arrow refuses as pandas reads them (the NaN of a ``str`` Series a null)."""
    if isinstance(result, pd.Series | pd.DataFrame):
        result = result.to_numpy()
    values = np.asarray(result)
    if values.ndim not in (1, 2) or len(values) != batch.num_rows:
        raise InputError(
            f"the pipeline returned shape {values.shape} for {batch.num_rows} rows; "
            "wm.ray.predict appends one value or one row of values per row"
        )
    names = output_names(output, 0 if values.ndim == 1 else values.shape[1])
    columns = [values] if values.ndim == 1 else [values[:, j] for j in range(values.shape[1])]
    for name, column in zip(names, columns, strict=True):
        try:
            array = pa.array(column)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # NaN among str
            array = pa.array(column, from_pandas=True)
        batch = batch.append_column(name, array)
    return batch


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of a result column's dtype name (``ValueSpec.dtypes``): numbers,
    bools and datetimes as they are, anything else (str, category) as object."""
    try:
        dtype = np.dtype(name)
    except TypeError:
        return np.dtype(object)
    return dtype if dtype.kind in "biufcmM" else np.dtype(object)


@dataclass(frozen=True)
class Shipped:
    """A pipeline's pickled state (``persist.Portable``) in Ray's object store: its
    reference, and its digest, by which a worker process finds the pipeline it unpickled
    before without fetching the state again."""

    state: Any  # ray.ObjectRef[persist.Portable]
    digest: str

    def pipeline(self) -> Pipeline:
        from willump_mlir import persist

        known = persist.unpickled(self.digest)
        if known is not None:
            return known
        import ray

        return persist.unpickle(ray.get(self.state))


#: States put in the object store by this driver: (digest, job, node) -> reference, most
#: recent last. A new ``ray.init`` (another job or node id) puts them again.
_SHIPPED: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_SHIPPED_LOCK = threading.Lock()
SHIPPED_KEPT = 4


def shipped(pipeline: Pipeline) -> Shipped:
    """``pipeline``'s state in the object store (``ray.put`` once per driver and Ray
    session, ``persist.portable`` once per pipeline): a job after the first ships nothing.
    The last ``SHIPPED_KEPT`` states stay there while the driver runs."""
    import ray

    from willump_mlir import persist

    state = persist.portable(pipeline)
    context = ray.get_runtime_context()
    key = (state.digest(), context.get_job_id(), context.get_node_id())
    with _SHIPPED_LOCK:
        if key not in _SHIPPED:
            _SHIPPED[key] = ray.put(state)
            while len(_SHIPPED) > SHIPPED_KEPT:
                _SHIPPED.popitem(last=False)
        _SHIPPED.move_to_end(key)
        return Shipped(_SHIPPED[key], key[0])


class Scorer:
    """The function ``map_batches`` runs on each Arrow batch. ``pipeline``: a compiled or
    optimized pipeline, its pickled state (``persist.Portable``), or that state in the object
    store (``Shipped``, what ``predict`` passes, and its actor pools' constructor argument);
    or a plain function. The first batch of a worker process's first task unpickles the
    pipeline (``persist.unpickle``), which every later task of that process finds again."""

    def __init__(
        self, pipeline: Any, feeds: list[Feed], output: str | Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):  # fmt: skip
        from willump_mlir import persist

        if isinstance(pipeline, persist.Portable | Shipped):
            self.state: persist.Portable | Shipped | None = pipeline
        else:
            self.state = persist.portable(pipeline) if isinstance(pipeline, Pipeline) else None
        self.function = None if self.state is not None else pipeline  # a plain function
        self.feeds = feeds
        self.output = output
        self.batch_size = batch_size
        self.pipeline: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "pipeline": None}

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.pipeline is None:
            self.pipeline = self.function or self.unpickle()
        if batch.num_rows == 0 and (empty := self.no_rows()) is not None:
            return append_result(batch, empty, self.output)
        if batch.num_rows <= self.batch_size:
            return append_result(batch, self.score(batch), self.output)
        parts = [self.score(batch.slice(start, self.batch_size))
                 for start in range(0, batch.num_rows, self.batch_size)]  # fmt: skip
        return append_result(batch, np.concatenate(parts), self.output)

    def score(self, batch: pa.Table) -> Any:
        """The pipeline's result on the rows of ``batch`` (at most ``batch_size``); a plain
        function gets a frame argument as the DataFrame."""
        values = [feed.value(batch) for feed in self.feeds]
        if self.function is not None:
            values = [as_frame(value) for value in values]
        result = self.pipeline(*values)
        return result.to_numpy() if isinstance(result, pd.Series | pd.DataFrame) else result

    def no_rows(self) -> np.ndarray | None:
        """The result on an empty block (a dataset's blocks can be: after a filter, from an
        empty file): no values, of the type the pipeline returned on its example
        (``signature().result``), where the original function (scikit-learn) refuses a
        0-row batch; a dataset's rows are scored one by one, and there are none. None for
        a plain function or a result of unknown type, which is then called."""
        if not isinstance(self.pipeline, Pipeline):
            return None
        result = self.pipeline.signature().result
        if result is None or result.type not in ("ndarray", "Series", "DataFrame"):
            return None
        dtypes = [numpy_dtype(dtype) for _, dtype in result.dtypes]
        return np.empty((0, *result.row_shape), dtype=np.result_type(*dtypes))

    def unpickle(self) -> Pipeline:
        from willump_mlir import persist

        try:
            if isinstance(self.state, Shipped):
                return self.state.pipeline()
            return persist.unpickle(self.state)
        except Exception as error:  # a user error, not retried: every task would fail
            raise InputError(
                f"the pipeline could not be unpickled in a Ray worker: {error}. Its "
                "function and Python calls are pickled by reference when they are defined "
                "in a module: that module must be importable on every node "
                "(runtime_env={'py_modules': [...]} or PYTHONPATH)"
            ) from None


def predict(
    dataset: ray.data.Dataset,
    pipeline: Pipeline,
    *,
    output: str | Sequence[str] = "prediction",
    inputs: Mapping[str, str | Sequence[str]] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: float = 1,
    **map_batches: Any,
) -> ray.data.Dataset:
    """``dataset`` with the pipeline's result on each row appended as the column ``output``
    (a result of k values per row: ``output_0`` .. ``output_{k-1}``, or the k names given).

    The data arguments are read from the dataset's columns (``inputs``, see ``feeds``);
    each task gets ``num_cpus`` CPUs, which the compiled kernels use as threads. Each task
    gets whole blocks, which it scores ``batch_size`` rows per kernel call: so Ray Data can
    fuse the read before and the write after into the same task (a ``map_batches``
    batch_size keeps a read apart). ``map_batches`` is passed on to
    ``Dataset.map_batches`` (e.g. ``compute=``, ``memory=``); with
    ``compute=ray.data.ActorPoolStrategy(...)`` each actor unpickles the pipeline once and
    gets its next block while it scores one (Ray Data 2.60 keeps two in flight per actor),
    where a task pool starts a task per block, at the price of starting the actors. Lazy,
    as Ray Data is: nothing runs until the result is consumed or written.

    Ray Data 2.60 reads its resource limits as zero for about the first second of each
    execution, and its per-operator reservation then runs one task at a time: a job of a
    few seconds runs much of it on one CPU (``bench/results/ray_data.md``). A short job
    on a fixed cluster can set ``DataContext.get_current().op_resource_reservation_enabled
    = False`` before creating its dataset (``score_files`` runs its job so)."""
    schema = dataset.schema()
    names = list(schema.names) if schema is not None else []
    plan = feeds(pipeline, names, inputs)
    taken = [n for n in ([output] if isinstance(output, str) else list(output)) if n in names]
    if taken:
        raise InputError(f"output column(s) {taken} already in the dataset; pass another "
                         "output=")  # fmt: skip
    from ray.data import ActorPoolStrategy

    state = shipped(pipeline)
    scorer: Any = Scorer(state, plan, output, batch_size)
    if isinstance(map_batches.get("compute"), ActorPoolStrategy):  # Ray builds a class there
        map_batches["fn_constructor_args"] = (state, plan, output, batch_size)
        scorer = Scorer
    return dataset.map_batches(
        scorer, batch_format="pyarrow", batch_size=None, num_cpus=num_cpus,
        zero_copy_batch=True, **map_batches,
    )  # fmt: skip


def read_parquet(source: str) -> ray.data.Dataset:
    """The Parquet rows at ``source`` (a file or directory, local or ``s3://``...) read by
    one Ray task per file, for ``predict``: Ray Data then fuses read, scoring and a
    ``write_parquet`` into one task per file, and the files spread over the nodes.

    (Ray 2.60's default Parquet reader bins files by 128 MiB of compressed bytes: here 40
    files of 250k rows made 2 read tasks, one with 34 files, so a second node got little;
    and a read split into more blocks than files is not fused.)"""
    import pyarrow.dataset
    import ray
    from ray.data import DataContext

    files = len(pyarrow.dataset.dataset(source, format="parquet").files)
    context = DataContext.get_current()
    reader_v2 = getattr(context, "use_datasource_v2", None)
    if reader_v2 is not None:  # Ray >= 2.60: the reader that makes one task per file
        context.use_datasource_v2 = False
    try:
        return ray.data.read_parquet(source, override_num_blocks=max(files, 1))
    finally:
        if reader_v2 is not None:
            context.use_datasource_v2 = reader_v2


def score_files(
    source: str,
    pipeline: Pipeline,
    destination: str,
    *,
    output: str | Sequence[str] = "prediction",
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: float = 1,
) -> None:
    """``read_parquet(source)`` -> ``predict`` -> ``write_parquet(destination)``: one fused
    Ray task per file (``willump predict --ray``'s job).

    Ray Data's per-operator object-store reservation is off while the job runs (and restored
    after): the job is one operator writing its own output, and the reservation, sized from
    the files read, held it to about one task in flight on a 2-node cluster (two nodes
    1.11x one node's rows/s, 1.73x without it; ``bench/results/ray.md``)."""
    from ray.data import DataContext

    context = DataContext.get_current()
    reserving = getattr(context, "op_resource_reservation_enabled", None)
    if reserving is not None:
        context.op_resource_reservation_enabled = False
    try:
        scored = predict(read_parquet(source), pipeline, output=output,
                         batch_size=batch_size, num_cpus=num_cpus)  # fmt: skip
        scored.write_parquet(destination)
    finally:
        if reserving is not None:
            context.op_resource_reservation_enabled = reserving


class ClusterError(Exception):
    """The Ray cluster named by an address cannot be reached or joined."""


def connect(address: str, *, local_cpus: int | None = None) -> None:
    """``ray.init`` for an address: ``local`` starts an instance in this process (of
    ``local_cpus`` CPUs, default all), ``auto`` joins the one ``ray start`` left on this
    machine (or ``$RAY_ADDRESS``), ``HOST:PORT`` the head there; ``ClusterError`` if that
    fails, saying why."""
    import socket

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address == "local":
        ray.init(address="local", num_cpus=local_cpus, include_dashboard=False,
                 log_to_driver=False)  # fmt: skip
        return
    if address != "auto" and "://" not in address:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ClusterError(f"--ray {address!r}: expected HOST:PORT, 'auto' or 'local'")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as error:
            raise ClusterError(
                f"cannot reach a Ray cluster at {address} ({error}); is its head running "
                "(ray start --head --port ...)?"
            ) from None
    try:
        ray.init(address=address, log_to_driver=False)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, auth errors...
        hint = ""
        if "auth" in str(error).lower() or "token" in str(error).lower():
            hint = " (a head with token auth: set RAY_AUTH_MODE=token, as for ray start)"
        raise ClusterError(f"cannot join the Ray cluster at {address}: {error}{hint}") from None


def score_parquet(
    model: str | os.PathLike[str],
    source: str,
    destination: str | os.PathLike[str],
    *,
    address: str,
    trust: bool = False,
    column: str = "prediction",
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: float = 1,
    local_cpus: int | None = None,
    progress: bool = True,
) -> int:
    """``willump predict --ray``: the pipeline saved at ``model`` (``wm.load``, ``trust``
    for a save with pickled objects) scores the Parquet rows at ``source`` into Parquet
    files in ``destination`` on the cluster at ``address`` (see ``connect``), with Ray
    Data's progress bars. Returns 0; ``InputError``/``ClusterError`` say what is wrong."""
    import time
    from pathlib import Path

    import pyarrow.dataset
    import ray
    from ray.data import DataContext

    from willump_mlir.persist import load

    try:
        pipeline = load(model, trust=trust)
    except InputError as error:  # worded for the API: name the command's flag
        raise InputError(str(error).replace("pass trust=True", "pass --trust")) from None
    if "://" not in source and not Path(source).exists():
        raise InputError(f"{source}: no such Parquet file or directory")
    try:
        columns = pyarrow.dataset.dataset(source, format="parquet").schema.names
    except (OSError, pa.ArrowInvalid) as error:
        raise InputError(f"{source}: not readable as Parquet ({error})") from None
    feeds(pipeline, columns)  # missing columns: refused before the cluster is joined
    connect(address, local_cpus=local_cpus)
    try:
        DataContext.get_current().enable_progress_bars = progress
        started = time.perf_counter()
        rows = read_parquet(source).count()
        score_files(source, pipeline, str(destination), output=column,
                    batch_size=batch_size, num_cpus=num_cpus)  # fmt: skip
        seconds = time.perf_counter() - started
        print(f"scored {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s) "
              f"into {destination}")  # fmt: skip
    finally:
        ray.shutdown()
    return 0
