"""The row code of ``feature.tree_ensemble``, for ``lower-feature-to-scf``.

A tree is walked with an ``scf.while`` on the node number (``c >= 0`` an internal node,
``c < 0`` leaf ``~c``), one sign test per level::

    n = roots[t]
    while n >= 0:
        feature, flags, left, right = nodes[n]
        x = row[feature]                            (float32-rounded with input "f32")
        n = left if x <= thresholds[n] else right   (plus the routing ``flags`` ask for)
    sums[tree_outputs[t]:][:width] += leaves[~n]

Rows that come from outside the kernel are read in place and summed a block of up to
``TREE_BLOCK`` rows at a time (``BRANCH_BLOCK`` for generated branches without ``top N``),
tree by tree, into a buffer on the stack (the first row of each block computes the block,
every row then reads its own sums): a tree's nodes stay in cache for the whole block, as in
scikit-learn's tree-by-tree loops. With float32 inputs the block's values are rounded once,
into a stack buffer. A block of ``TOGETHER_ROWS`` rows or more walks each tree together, a
level at a time (``walk_together``): each pass moves every row still at an internal node
one level down and compacts the list of those still inside, so the rows' steps are
independent and no branch depends on a row's path (a lone walk waits for each load, and
mispredicts where its path ends). With ``top N`` (``choose-tree-layout`` laid out the top ``N``
levels of every tree as a complete binary tree, as XGBoost's ``ArrayTreeLayout`` does) the
block's rows first go down those levels a level at a time with no list and no child loaded,
``i -> 2i + 1 + right`` from the tree's root; padding below a leaf goes right whatever the
value, NaN included. Float32 sums are kept in a float32 buffer.
A row computed in the kernel (a scaler first) is stored once, rounded,
in a row on the stack and summed alone; generated branches too large for that
(:func:`runs_on_stored_rows`) get a kernel of their own, reading the rows the kernel
before them stored.
Each row's sums are added in tree order, then divided by ``divisor``. Only the routing
rules present in the ensemble (``node_flags``) are emitted: a plain numeric forest compares
and selects, NaN going right as the comparison fails.

With ``layout "branches"`` the tree sums are a call instead of the loops above, to a
function declared here and written as LLVM IR by ``tree_branches`` when the module is
translated (the declaration carries the ensemble as ``willump.tree_branches``)::

    func.call @wm_trees_<hash>(%data, %start, %rows, %sums)
        : (memref<?xf64>, index, index, memref<?xf64>) -> ()

With ``top N`` as well, a block of ``TOGETHER_ROWS`` rows or more walks the node arrays
together instead (rows computed in the kernel, one at a time, call the branches).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.dialects import arith, func, math, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DictionaryAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    f32,
    f64,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue

from willump_mlir.dialects import feature
from willump_mlir.dialects.feature import (
    CATEGORICAL,
    INTEGER_CATEGORY,
    MISSING_LEFT,
    OUT_OF_RANGE_IS_MISSING,
    TRUNCATE_CATEGORY,
    ZERO_IS_MISSING,
    ZERO_THRESHOLD,
)
from willump_mlir.dialects.pipeline import batch_width
from willump_mlir.passes import tree_branches

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter


index = IndexType()
TREE_BLOCK = 64  # rows summed together, tree by tree, when read in place
BRANCH_BLOCK = 1024  # the same for generated branches: their code, not data, must stay cached
BLOCK_SUMS = 8192  # at most this many sums (64 KiB) on the stack
ROUNDED_VALUES = 4096  # at most this many float32-rounded input values (32 KiB) on the stack
TOGETHER_ROWS = 8  # node arrays are walked by a block's rows together from this many rows
FEW_ROWS = 16  # a kernel call of fewer rows walks the node arrays of a large branches ensemble


def runs_on_stored_rows(op: Operation) -> bool:
    """Whether ``op`` is an ensemble too large to run a row at a time (all its code, or all
    its nodes, would pass through the cache for every row: a 1,000-tree RandomForest behind
    a StandardScaler it keeps ran 6x slower than scikit-learn).
    ``lower-feature-to-scf`` then gives it a kernel of its own when its input is computed:
    the kernel before stores the rows, and its trees run over blocks of them. A kernel call
    of fewer than ``FEW_ROWS`` rows of generated branches walks the node arrays instead: a
    single row touches fewer cache lines of nodes than of code (RandomForest 100 x depth 10:
    17 µs, not 23)."""
    splits = op.thresholds.size if isinstance(op, feature.TreeEnsembleOp) else 0
    return splits > tree_branches.BLOCK_NODES


class TreeEmitter:
    """The tree ensemble handler; mixed into ``KernelEmitter``."""

    def f32_constant(self: KernelEmitter, value: float) -> SSAValue:
        """An f32 ``arith.constant`` in the kernel's entry block (``constant`` makes f64)."""
        key = (f32, repr(value))
        if key not in self.state.constants:
            op = arith.ConstantOp(FloatAttr(value, f32))
            self.state.entry.insert_op_before(op, self.state.loop)
            self.state.constants[key] = op.result
        return self.state.constants[key]

    def stack_buffer(self: KernelEmitter, size: int, element: Attribute = f64) -> SSAValue:
        """``size`` values on the kernel's stack (``memref.alloca`` before the row loop)."""
        op = memref.AllocaOp.get(element, shape=[size])
        self.state.entry.insert_op_before(op, self.state.loop)
        return op.memref

    def round_f32(self: KernelEmitter, x: SSAValue) -> SSAValue:
        """``float64(float32(x))``: what scikit-learn's trees compare."""
        return self.emit(arith.ExtFOp(self.emit(arith.TruncFOp(x, f32)), f64))

    def flag(self: KernelEmitter, flags: SSAValue, bit: int) -> SSAValue:
        return self.cmpi("ne", self.iand(flags, bit), self.constant(0, i32))

    def tree_ensemble(self: KernelEmitter, op: feature.TreeEnsembleOp) -> list[SSAValue]:
        """The row's ``K`` outputs (see the module docstring), after the input checks."""
        f32_input = op.input_precision.data == "f32"
        in_place = op.input not in self.rows  # a kernel input: read where it is
        if op.check.data != "none" or not in_place:
            row = self.row_of(op.input)
            rounded = [self.round_f32(x) for x in row] if f32_input else row
            if op.check.data != "none":
                checked = [rounded[j] for j in op.checked_columns(len(rounded))]
                self.check_values(op, checked, allow_nan=op.check.data == "infinite")
        if in_place:
            return self.tree_block(op, self.input(op.input, "", "values", f64))
        data = self.stack_buffer(len(rounded))
        for j, x in enumerate(rounded):  # computed here: stored once per row, already rounded
            self.store(x, data, self.constant(j, index))
        sums = self.stack_buffer(op.outputs, self.sum_element(op))
        zero = self.constant(0, index)
        self.sum_trees(op, self.constant(1, index), lambda _: (data, zero), sums, 1)
        return self.finish_sums(op, sums, zero)

    def tree_block(
        self: KernelEmitter, op: feature.TreeEnsembleOp, data: SSAValue
    ) -> list[SSAValue]:
        """Rows read in place are summed a block of rows at a time, tree by tree (a tree's
        nodes stay in cache for the block); each row reads its sums."""
        features = batch_width(op.input.type)
        walks = not op.branches or op.top_levels is not None  # see sum_trees
        rows = max(1, min(TREE_BLOCK if walks else BRANCH_BLOCK, BLOCK_SUMS // op.outputs))
        rounded = op.input_precision.data == "f32" and walks
        if rounded:
            rows = max(1, min(rows, ROUNDED_VALUES // features))
            values = self.stack_buffer(rows * features)
        block = self.constant(rows, index)
        sums = self.stack_buffer(rows * op.outputs, self.sum_element(op))
        offset = self.emit(arith.RemUIOp(self.state.row, block))

        def compute() -> list[SSAValue]:
            left = self.emit(arith.SubiOp(self.state.entry.args[0], self.state.row))
            count = self.min_index(left, block)
            first = self.imul(self.state.row, features)

            def source(i: SSAValue) -> tuple[SSAValue, SSAValue]:
                return data, self.iadd(first, self.imul(i, features))

            if rounded:  # the block's values rounded once, not at every node

                def round_value(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                    x = self.load(data, self.iadd(first, k))
                    self.store(self.round_f32(x), values, k)
                    return []

                zero = self.constant(0, index)
                self.for_range(zero, self.imul(count, features), [], round_value)
                self.sum_trees(op, count, lambda i: (values, self.imul(i, features)), sums, rows)
            else:
                self.sum_trees(op, count, source, sums, rows, convert=True)
            return []

        self.if_else(self.cmpi("eq", offset, self.constant(0, index)), compute)
        return self.finish_sums(op, sums, self.imul(offset, op.outputs))

    def child(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        node: SSAValue,
        value: Callable[[SSAValue], SSAValue],
    ) -> SSAValue:
        """The child (i32) a row goes to from internal ``node``; ``value(column)`` reads it."""
        at = self.to_index(node)
        record = self.imul(at, 4)
        go_left = self.goes_left(op, at, value)
        left = self.load(self.blob(op.nodes), self.iadd(record, 2))
        right = self.load(self.blob(op.nodes), self.iadd(record, 3))
        return self.select(go_left, left, right)

    def goes_left(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        at: SSAValue,
        value: Callable[[SSAValue], SSAValue],
    ) -> SSAValue:
        """Whether a row goes left at internal node ``at`` (index); ``value(column)`` reads it."""
        record = self.imul(at, 4)
        x = value(self.to_index(self.load(self.blob(op.nodes), record)))
        threshold = self.blob_value(op.thresholds, at)
        go_left = self.cmpf("ole" if op.compare.data == "le" else "olt", x, threshold)
        if op.node_flags.value.data:
            flags = self.load(self.blob(op.nodes), self.iadd(record, 1))
            go_left = self.route(op, at, flags, x, go_left)
        return go_left

    def walk(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        root: SSAValue,
        value: Callable[[SSAValue], SSAValue],
    ) -> SSAValue:
        """The leaf a row reaches from ``root`` (as ``~leaf``, i32); ``value(column)`` reads
        the row."""
        (leaf,) = self.while_loop(
            [root],
            lambda n: self.cmpi("sge", n[0], self.constant(0, i32)),
            lambda n: [self.child(op, n[0], value)],
        )
        return leaf

    def walk_together(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        root: SSAValue,
        rows: SSAValue,
        value: Callable[[SSAValue, SSAValue], SSAValue],
        reached: SSAValue,
        active: SSAValue,
    ) -> None:
        """``reached[i]`` = the leaf (``~leaf``) row ``i`` of ``[0, rows)`` reaches from
        ``root``; ``value(i, column)`` reads row ``i``. The rows go down together, a level at
        a time: each pass moves every row still at an internal node (listed in ``active``)
        one level and keeps those still inside, in order. The rows' steps are independent,
        so the processor overlaps them, and no branch depends on a row's path.

        With ``top N`` every row first goes down the tree's complete top levels, a level at a
        time, by index arithmetic (``i -> 2i + 1 + right``, no child loaded and no list kept);
        the last of them loads the child and starts the list."""
        zero, first = self.constant(0, i32), self.constant(0, index)

        def moved(i: SSAValue, row: SSAValue, node: SSAValue, kept: SSAValue) -> list[SSAValue]:
            self.store(node, reached, i)
            self.store(row, active, kept)  # kept <= the slot read: one already read
            inside = self.cast(self.cast(self.cmpi("sge", node, zero), i64), index)
            return [self.iadd(kept, inside)]

        def step(j: SSAValue, kept: list[SSAValue]) -> list[SSAValue]:
            row = self.load(active, j)
            i = self.to_index(row)
            node = self.child(op, self.load(reached, i), lambda column: value(i, column))
            return moved(i, row, node, kept[0])

        levels = op.top_levels.value.data if op.top_levels is not None else 0
        if levels:
            base = self.to_index(root)

            def top(depth: int) -> Callable[[SSAValue, list[SSAValue]], list[SSAValue]]:
                def level(i: SSAValue, kept: list[SSAValue]) -> list[SSAValue]:
                    at = self.to_index(self.load(reached, i)) if depth else first
                    node = self.iadd(base, at)
                    if depth == levels - 1:
                        reached_node = self.child(
                            op, self.cast(node, i32), lambda column: value(i, column)
                        )
                        return moved(i, self.cast(i, i32), reached_node, kept[0])
                    go_left = self.goes_left(op, node, lambda column: value(i, column))
                    right = self.cast(self.cast(self.negate(go_left), i64), index)
                    self.store(self.cast(self.iadd(self.iadd(at, at), self.iadd(right, 1)), i32),
                               reached, i)  # fmt: skip
                    return kept

                return level

            for depth in range(levels - 1):
                self.for_range(first, rows, [], top(depth))
            (inside,) = self.for_range(first, rows, [first], top(levels - 1))
        else:

            def start(i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                self.store(root, reached, i)
                self.store(self.cast(i, i32), active, i)
                return []

            self.for_range(first, rows, [], start)
            inside = self.select(self.cmpi("sge", root, zero), rows, first)
        self.while_loop(
            [inside],
            lambda left: self.cmpi("ugt", left[0], first),
            lambda left: self.for_range(first, left[0], [first], step),
        )

    def sum_trees(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        rows: SSAValue,
        source: Callable[[SSAValue], tuple[SSAValue, SSAValue]],
        sums: SSAValue,
        capacity: int,
        convert: bool = False,
    ) -> None:
        """``sums[i * K:][:K]`` = base plus the leaves of every tree, in tree order, for rows
        ``i`` in ``[0, rows)`` (at most ``capacity``) whose values ``source(i)`` gives as
        (buffer, start), row ``i`` starting ``i`` rows after row 0; ``convert`` rounds each
        value read to float32 when the input precision is f32 (generated branches always
        round: rounding is idempotent). Node arrays are walked a row at a time for fewer than
        ``TOGETHER_ROWS`` rows, else by all rows together (:meth:`walk_together`). Generated
        branches with ``top N`` node arrays walk those for ``TOGETHER_ROWS`` rows or more
        (no branch depends on a row's path), and call the branches for fewer."""
        outputs, width = op.outputs, op.width
        first = self.constant(0, index)
        f32_input = convert and op.input_precision.data == "f32"

        def init(i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            at = self.imul(i, outputs)
            for k in range(outputs):
                value = self.narrow(op, self.blob_value(op.base, k))
                self.store(self.stored(op, value), sums, self.iadd(at, k))
            return []

        def value(i: SSAValue, column: SSAValue) -> SSAValue:
            data, start = source(i)
            x = self.load(data, self.iadd(start, column))
            return self.round_f32(x) if f32_input else x

        def add_leaf(reached: SSAValue, out: SSAValue, i: SSAValue) -> list[SSAValue]:
            leaf = self.to_index(self.emit(arith.XOrIOp(reached, self.constant(-1, i32))))
            leaf = self.imul(leaf, width)
            at = self.iadd(self.imul(i, outputs), out)
            for j in range(width):
                v = self.narrow(op, self.blob_value(op.leaves, self.iadd(leaf, j)))
                position = self.iadd(at, j)
                total = self.emit(arith.AddfOp(self.narrow(op, self.load(sums, position)), v))
                self.store(self.stored(op, total), sums, position)
            return []

        def per_row(root: SSAValue, out: SSAValue, i: SSAValue) -> list[SSAValue]:
            return add_leaf(self.walk(op, root, lambda column: value(i, column)), out, i)

        def per_tree(t: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            root = self.load(self.blob(op.roots), t)
            out = self.to_index(self.load(self.blob(op.tree_outputs), t))

            def alone() -> list[SSAValue]:
                return self.for_range(first, rows, [], lambda i, _: per_row(root, out, i))

            def together() -> list[SSAValue]:
                self.walk_together(op, root, rows, value, reached, active)
                return self.for_range(
                    first, rows, [], lambda i, _: add_leaf(self.load(reached, i), out, i)
                )

            if capacity < TOGETHER_ROWS:
                return alone()
            many = self.cmpi("uge", rows, self.constant(TOGETHER_ROWS, index))
            return self.if_else(many, together, alone)

        def walk() -> list[SSAValue]:
            trees = self.constant(op.roots.size, index)
            self.for_range(self.constant(0, index), trees, [], per_tree)
            return []

        def call() -> list[SSAValue]:
            data, start = source(first)
            self.call_branches(op, data, start, rows, sums)
            return []

        self.for_range(first, rows, [], init)
        if capacity >= TOGETHER_ROWS:
            reached, active = (self.stack_buffer(capacity, i32) for _ in range(2))
        if not op.branches:
            walk()
            return
        walks = []  # when a branches ensemble walks its node arrays instead
        if op.top_levels is not None and capacity >= TOGETHER_ROWS:
            walks.append(self.cmpi("uge", rows, self.constant(TOGETHER_ROWS, index)))
        if runs_on_stored_rows(op):  # a call of a few rows walks the nodes it needs
            few = self.constant(FEW_ROWS, index)
            walks.append(self.cmpi("ult", self.state.entry.args[0], few))
        if walks:
            either = walks[0] if len(walks) == 1 else self.emit(arith.OrIOp(*walks))
            self.if_else(either, walk, call)
        else:
            call()

    def call_branches(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        data: SSAValue,
        start: SSAValue,
        rows: SSAValue,
        sums: SSAValue,
    ) -> None:
        """``func.call`` the ensemble's generated trees (declared once per module)."""
        fields: dict[str, Attribute] = {
            "nodes": op.nodes, "thresholds": op.thresholds, "leaves": op.leaves,
            "roots": op.roots, "tree_outputs": op.tree_outputs,
            "features": IntegerAttr(batch_width(op.input.type), i64),
            "outputs": IntegerAttr(op.outputs, i64), "compare": op.compare,
            "input": op.input_precision, "sum": op.sum_precision,
        }  # fmt: skip
        if op.category_ranges is not None and op.category_bits is not None:
            fields |= {"category_ranges": op.category_ranges, "category_bits": op.category_bits}
            bits = op.category_bits
            self.lowering.declare_global(bits.symbol.data, MemRefType(i32, [bits.size]))
        ensemble = DictionaryAttr(fields)
        name = "wm_trees_" + hashlib.sha256(str(ensemble).encode()).hexdigest()[:16]
        buffer = MemRefType(f64, [DYNAMIC_INDEX])
        declaration = func.FuncOp.external(name, [buffer, index, index, buffer], [])
        declaration.attributes["willump.tree_branches"] = ensemble
        self.lowering.declare_function(declaration)
        self.lowering.declare_global(op.leaves.symbol.data, MemRefType(f64, [op.leaves.size]))
        data, sums = (
            v if v.type == buffer else self.emit(memref.CastOp.get(v, buffer)) for v in (data, sums)
        )
        self.emit(func.CallOp(name, [data, start, rows, sums], []))

    def finish_sums(
        self: KernelEmitter, op: feature.TreeEnsembleOp, sums: SSAValue, at: SSAValue
    ) -> list[SSAValue]:
        """The row's ``K`` sums from ``sums[at:]``, divided by the divisor if any."""
        values = [self.narrow(op, self.load(sums, self.iadd(at, k))) for k in range(op.outputs)]
        if op.divisor is None:
            return values
        value = op.divisor.value.data
        f32_sum = op.sum_precision.data == "f32"
        divisor = self.f32_constant(value) if f32_sum else self.constant(value, f64)
        return [self.emit(arith.DivfOp(v, divisor)) for v in values]

    def sum_element(self: KernelEmitter, op: feature.TreeEnsembleOp) -> Attribute:
        """The element of the sums buffer: the sum's precision (f64 for generated branches,
        whose function takes f64 sums)."""
        return f32 if op.sum_precision.data == "f32" and not op.branches else f64

    def stored(self: KernelEmitter, op: feature.TreeEnsembleOp, value: SSAValue) -> SSAValue:
        """A sum in the element of the sums buffer."""
        return value if self.sum_element(op) == f32 else self.widen(value)

    def narrow(self: KernelEmitter, op: feature.TreeEnsembleOp, value: SSAValue) -> SSAValue:
        """A value in the sum's precision (f64 values are rounded for a float32 sum)."""
        if op.sum_precision.data == "f32" and value.type != f32:
            return self.emit(arith.TruncFOp(value, f32))
        return value

    def widen(self: KernelEmitter, value: SSAValue) -> SSAValue:
        return self.emit(arith.ExtFOp(value, f64)) if value.type == f32 else value

    def route(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        at: SSAValue,
        flags: SSAValue,
        x: SSAValue,
        numeric_left: SSAValue,
    ) -> SSAValue:
        """The missing-value and categorical rules of ``frontend.trees`` for one node."""
        present = op.node_flags.value.data
        missing = self.cmpf("uno", x, x)
        categorical = self.flag(flags, CATEGORICAL) if present & CATEGORICAL else None
        if present & ZERO_IS_MISSING:
            small = self.cmpf("ole", self.emit(math.AbsFOp(x)), self.constant(ZERO_THRESHOLD, f64))
            zero = self.emit(arith.AndIOp(small, self.flag(flags, ZERO_IS_MISSING)))
            if categorical is not None:
                zero = self.emit(arith.AndIOp(zero, self.negate(categorical)))
            missing = self.emit(arith.OrIOp(missing, zero))
        missing_left = self.flag(flags, MISSING_LEFT)
        go_left = numeric_left
        if categorical is not None:
            go_left = self.select(
                categorical, self.category_left(op, at, flags, x, missing_left), numeric_left
            )
        return self.select(missing, missing_left, go_left)

    def category_left(
        self: KernelEmitter,
        op: feature.TreeEnsembleOp,
        at: SSAValue,
        flags: SSAValue,
        x: SSAValue,
        missing_left: SSAValue,
    ) -> SSAValue:
        """Bit ``trunc(x)`` of the node's bitset, or the out-of-range way."""
        assert op.category_ranges is not None and op.category_bits is not None
        present = op.node_flags.value.data
        whole = self.emit(math.TruncOp(x))
        checked = x
        if present & TRUNCATE_CATEGORY:
            checked = self.select(self.flag(flags, TRUNCATE_CATEGORY), whole, x)
        pair = self.imul(at, 2)
        first = self.load(self.blob(op.category_ranges), pair)
        words = self.load(self.blob(op.category_ranges), self.iadd(pair, 1))
        limit = self.emit(arith.MulfOp(self.emit(arith.SIToFPOp(words, f64)),
                                       self.constant(32.0, f64)))  # fmt: skip
        in_range = self.emit(
            arith.AndIOp(
                self.cmpf("oge", checked, self.constant(0.0, f64)),
                self.cmpf("olt", checked, limit),
            )
        )
        if present & INTEGER_CATEGORY:
            integer = self.emit(
                arith.OrIOp(self.negate(self.flag(flags, INTEGER_CATEGORY)),
                            self.cmpf("oeq", x, whole))
            )  # fmt: skip
            in_range = self.emit(arith.AndIOp(in_range, integer))
        code = self.emit(arith.FPToSIOp(self.select(in_range, whole, self.constant(0.0, f64)), i32))
        word_at = self.select(in_range, self.iadd(first, self.shr(code, 5)), self.constant(0, i32))
        word = self.load(self.blob(op.category_bits), self.to_index(word_at))
        member = self.cast(self.iand(self.shr(word, self.iand(code, 31)), 1), i1)
        out_left = self.constant(0, i1)
        if present & OUT_OF_RANGE_IS_MISSING:
            out_left = self.emit(
                arith.AndIOp(self.flag(flags, OUT_OF_RANGE_IS_MISSING), missing_left)
            )
        return self.select(in_range, member, out_left)
