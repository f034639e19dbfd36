"""Column-level dataflow of pipeline IR: where each model-input column comes from.

The cascade passes need more than SSA use-def chains, because one frame carries columns
from several places. In

```mlir
%j = feature.join %df, %v : !pipeline.frame<"user" : f64>, tensor<?x2xf64>
       -> !pipeline.frame<"user" : f64, "mean" : f64, "n" : f64>
%x = pipeline.to_array %j ["mean", "user"] : ... -> tensor<?x2xf64>
```

column 0 of ``%x`` comes from the join (``%v``) and column 1 from the argument ``%df``.
``column_origins`` answers that per column; ``slice_of`` is the set of ops a set of columns
needs, looking through joins and column selections; ``read_through_joins`` makes every op
that reads named frame columns read them from the frame that introduced them, so that the
joins on a chain stop depending on each other; and ``ColumnNarrower`` rebuilds a value
keeping only some of its columns, leaving the ops that computed the others dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ArrayAttr, StringAttr
from xdsl.ir import Block, BlockArgument, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from willump_mlir.dialects.feature import JoinOp
from willump_mlir.dialects.pipeline import (
    FrameType,
    HstackOp,
    PythonCallOp,
    SelectColumnsOp,
    ToArrayOp,
    TransformOp,
    batch_width,
    checks_input,
    is_sparse,
)

STRUCTURAL = (HstackOp, ToArrayOp, SelectColumnsOp, JoinOp)
"""Ops that only move columns around: they belong to no feature group."""


@dataclass(frozen=True)
class Origin:
    """What produced a column: an op (a vectorizer, a join, a Python call) or an argument."""

    producer: Operation | BlockArgument

    def label(self) -> str:
        """A readable name: ``TfidfVectorizer(char_wb)``, ``join on userId``, ``input columns``."""
        producer = self.producer
        if isinstance(producer, BlockArgument):
            return "input columns"
        if isinstance(producer, JoinOp):
            keys = sorted({c for op in slice_of([producer.values]) for c in read_columns(op)})
            return f"join on {', '.join(keys)}" if keys else "join"
        if isinstance(producer, TransformOp):
            analyzer = producer.params.data.get("analyzer")
            hint = f"({analyzer.data})" if isinstance(analyzer, StringAttr) else ""
            return f"{producer.estimator.data}{hint}"
        if isinstance(producer, PythonCallOp):
            source = producer.source.data if producer.source else producer.callee.data
            return f"python {source}"
        return producer.name

    def roots(self) -> list[SSAValue]:
        """The values whose computation is this origin's own work (none for an argument)."""
        if isinstance(self.producer, BlockArgument):
            return []
        if isinstance(self.producer, JoinOp):
            return [self.producer.values]
        return list(self.producer.results)


def frame_columns(value: SSAValue) -> list[str]:
    assert isinstance(value.type, FrameType)
    return [name for name, _ in value.type.columns]


def read_columns(op: Operation) -> list[str]:
    """The named frame columns ``op`` reads (``columns`` or ``column`` property), if any."""
    columns = op.properties.get("columns")
    if isinstance(columns, ArrayAttr):
        return [c.data for c in columns.data if isinstance(c, StringAttr)]
    column = op.properties.get("column")
    return [column.data] if isinstance(column, StringAttr) else []


def _reads_named_columns(op: Operation, operand: SSAValue) -> bool:
    return isinstance(operand.type, FrameType) and not isinstance(op, JoinOp) and bool(
        read_columns(op)
    )


def _join_left_name(join: JoinOp, column: str) -> str | None:
    """The left frame's name of the join result's ``column``, or None if the join added it."""
    names = frame_columns(join.result)
    left = frame_columns(join.left)
    index = names.index(column)
    return left[index] if index < len(left) else None


def frame_origin(frame: SSAValue, column: str) -> tuple[SSAValue, str, Origin]:
    """The frame that introduced ``column`` of ``frame``, its name there, and its origin."""
    while True:
        owner = frame.owner
        if isinstance(owner, SelectColumnsOp):
            frame = owner.frame
        elif isinstance(owner, JoinOp):
            left_name = _join_left_name(owner, column)
            if left_name is None:
                return frame, column, Origin(owner)
            frame, column = owner.left, left_name
        else:
            producer = frame if isinstance(frame, BlockArgument) else owner
            assert isinstance(producer, Operation | BlockArgument)
            return frame, column, Origin(producer)


def column_origins(value: SSAValue) -> list[Origin]:
    """One origin per column of a 2-D batch ``value``."""
    owner = value.owner
    if isinstance(owner, HstackOp):
        return [origin for part in owner.inputs for origin in column_origins(part)]
    if isinstance(owner, ToArrayOp):
        return [frame_origin(owner.frame, c.data)[2] for c in owner.columns.data]
    producer = value if isinstance(value, BlockArgument) else owner
    assert isinstance(producer, Operation | BlockArgument)
    return [Origin(producer)] * batch_width(value.type)


def slice_of(values: Iterable[SSAValue]) -> set[Operation]:
    """The ops ``values`` need, following only the frame columns each op reads."""
    needed: set[Operation] = set()
    stack: list[tuple[SSAValue, str | None]] = [(v, None) for v in values]
    while stack:
        value, column = stack.pop()
        owner = value.owner
        if not isinstance(owner, Operation):
            continue
        if column is not None and isinstance(owner, JoinOp | SelectColumnsOp):
            needed.add(owner)
            if isinstance(owner, SelectColumnsOp):
                stack.append((owner.frame, column))
            elif (left_name := _join_left_name(owner, column)) is None:
                stack.append((owner.values, None))
            else:
                stack.append((owner.left, left_name))
            continue
        if owner in needed and column is None:
            continue
        needed.add(owner)
        for operand in owner.operands:
            if _reads_named_columns(owner, operand):
                stack.extend((operand, c) for c in read_columns(owner))
            elif isinstance(operand.type, FrameType) and isinstance(
                operand.owner, JoinOp | SelectColumnsOp
            ):
                stack.extend((operand, c) for c in frame_columns(operand))
            else:
                stack.append((operand, None))
    return needed


def read_through_joins(ops: Sequence[Operation]) -> None:
    """Make each op reading named frame columns read them where they were introduced.

    ``pipeline.to_array %j ["user"]`` of a join ``%j`` whose ``user`` came from ``%df``
    becomes ``pipeline.to_array %df ["user"]``; an op reading columns from several frames
    is left alone.
    """
    for op in ops:
        if isinstance(op, JoinOp) or not read_columns(op):
            continue
        frames = [o for o in op.operands if isinstance(o.type, FrameType)]
        if len(frames) != 1:
            continue
        origins = [frame_origin(frames[0], c) for c in read_columns(op)]
        sources = {frame for frame, _, _ in origins}
        if len(sources) != 1 or frames[0] in sources:
            continue
        (source,) = sources
        names = [name for _, name, _ in origins]
        if isinstance(op, ToArrayOp | SelectColumnsOp):
            replacement = type(op)(source, names)
            Rewriter.replace_op(op, replacement)
        elif len(names) == 1:
            op.operands = [source if o is frames[0] else o for o in op.operands]
            op.properties["column"] = StringAttr(names[0])


class ColumnNarrower:
    """Rebuilds batches keeping only some columns, inserting the new ops before ``anchor``.

    ``narrow(x, keep)`` returns a value equal to ``x[:, keep]`` (``keep`` increasing) built
    from the producers of those columns only: ``pipeline.hstack`` keeps the parts it needs,
    ``pipeline.to_array`` reads a frame from which joins that add only unused columns are
    dropped. A column block whose producer is anything else must be kept whole.
    """

    def __init__(self, anchor: Operation):
        self.anchor = anchor

    def insert(self, op: Operation) -> Operation:
        Rewriter.insert_op(op, InsertPoint.before(self.anchor))
        return op

    def narrow(self, value: SSAValue, keep: Sequence[int]) -> SSAValue:
        width = batch_width(value.type)
        if list(keep) == list(range(width)):
            return value
        owner = value.owner
        if isinstance(owner, HstackOp):
            parts: list[SSAValue] = []
            start = 0
            for part in owner.inputs:
                stop = start + batch_width(part.type)
                inside = [k - start for k in keep if start <= k < stop]
                if inside:
                    parts.append(self.narrow(part, inside))
                start = stop
            if len(parts) == 1:
                return parts[0]
            return self.insert(HstackOp(parts, is_sparse(value.type))).results[0]
        if isinstance(owner, ToArrayOp):
            names = [owner.columns.data[k].data for k in keep]
            frame, renamed = self.narrow_frame(owner.frame, names)
            return self.insert(ToArrayOp(frame, renamed)).results[0]
        raise ValueError(
            f"columns {list(keep)} of a {owner.name if owner else 'block argument'} result "
            "cannot be separated from the rest of it"
        )

    def narrow_frame(self, frame: SSAValue, names: Sequence[str]) -> tuple[SSAValue, list[str]]:
        """A frame holding ``names`` of ``frame`` (under the returned names) that keeps only
        the joins adding some of them; ``narrow_frame(f, names)[0][new]`` is ``f[names]``."""
        owner = frame.owner
        if isinstance(owner, SelectColumnsOp):
            return self.narrow_frame(owner.frame, names)
        if not isinstance(owner, JoinOp):
            return frame, list(names)
        left_of = {n: _join_left_name(owner, n) for n in names}
        wanted = [left for left in left_of.values() if left is not None]
        left, renamed = self.narrow_frame(owner.left, wanted)
        inner = dict(zip(wanted, renamed, strict=True))
        if all(left_name is not None for left_name in left_of.values()):
            return left, [inner[left_of[n]] for n in names]  # type: ignore[index]
        if left is owner.left and renamed == wanted:
            return frame, list(names)
        assert isinstance(frame.type, FrameType)
        added = frame_columns(owner.result)[len(frame_columns(owner.left)) :]
        if wanted and frame_columns(left) != renamed:
            left = self.insert(SelectColumnsOp(left, renamed)).results[0]
        assert isinstance(left.type, FrameType)
        if wanted:  # the join's own names for the left columns it keeps
            kept = [n for n in names if left_of[n] is not None]
            columns = [(n, frame.type.dtype_of(n)) for n in kept]
        else:  # only the row count of ``left`` matters: take it whole, as it is named
            columns = list(left.type.columns)
            if {n for n, _ in columns} & set(added):
                return frame, list(names)
        columns += [(n, frame.type.dtype_of(n)) for n in added]
        join = self.insert(JoinOp(left, owner.values, FrameType(columns)))
        return join.results[0], list(names)


def erase_dead_ops(block: Block, keep_checks: bool) -> None:
    """Erase the ops of ``block`` whose results are all unused, Python calls and model calls
    included (xDSL's ``dce`` keeps ops that are not ``Pure``): what nothing reads need not
    run. With ``keep_checks``, ops that check their input (``ChecksInput``) stay: the
    original refuses a bad value there even when nothing reads the result."""
    for op in reversed(list(block.ops)):
        if keep_checks and checks_input(op):
            continue
        if op.results and not any(r.uses for r in op.results):
            Rewriter.erase_op(op)
