"""The row code of the lookup ops (table joins), for ``lower-feature-to-scf``.

Per row:

* ``lookup_keys`` hashes the key's 64 bits (``-0.0`` as ``0.0``), probes the table's slots
  (``feature.number_table``) and compares the candidate keys; NaN goes to ``nan_row``.
* ``pack_codes`` turns the codes of a multi-column key into one mixed-radix code.
* ``gather_rows`` loads the table row of a code, or ``fill`` (NaN) for no row; with
  ``on_missing python`` such a row is flagged to run in Python.
* ``join`` builds nothing: its frame's columns are the left frame's (read from the frame
  they come from) and the gathered values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import arith
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IndexType, StringAttr, f64, i1, i64
from xdsl.ir import SSAValue

from willump_mlir.abi import GOLDEN, signed64
from willump_mlir.dialects import feature
from willump_mlir.dialects.feature import resolve_column

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import FrameRow, KernelEmitter

index = IndexType()


class LookupEmitter:
    """The lookup ops' handlers; mixed into ``KernelEmitter``."""

    def joined_column(self: KernelEmitter, frame: FrameRow, name: str) -> SSAValue | None:
        """The row's value of a join's gathered column ``name``, None for another column."""
        source, column = resolve_column(frame.value, name)
        return self.row_of(source)[column] if isinstance(column, int) else None

    def column_group(
        self: KernelEmitter, frame: FrameRow, columns: ArrayAttr
    ) -> DictionaryAttr | None:
        """The frame columns whose common dtype the runtime checks (``to_array``): none when a
        gathered (f64) column is among them, which makes the matrix f64 whatever the rest."""
        resolved = [resolve_column(frame.value, c.data) for c in columns.data]
        if any(isinstance(column, int) for _, column in resolved):
            return None
        source = resolved[0][0] if resolved else frame.value
        return DictionaryAttr(
            {
                "value": StringAttr(self.lowering.value_name(source)),
                "columns": ArrayAttr([StringAttr(str(column)) for _, column in resolved]),
            }
        )

    def lookup_keys(self: KernelEmitter, op: feature.LookupKeysOp) -> list[SSAValue]:
        """Probe ``table`` for the row's key; compare the keys of occupied slots."""
        x = self.row_of(op.input)[op.index.value.data]
        is_float = x.type == f64
        if is_float:
            bits = self.emit(arith.BitcastOp(self.add(x, self.constant(0.0, f64)), i64))
        else:
            bits = x
        size = op.table.size
        shift = self.constant(64 - size.bit_length() + 1, i64)
        hashed = self.emit(arith.MuliOp(bits, self.constant(signed64(GOLDEN), i64)))
        slot = self.emit(arith.ShRUIOp(hashed, shift))
        mask = self.constant(size - 1, i64)
        table, keys = self.blob(op.table), self.blob(op.keys)

        def probe(p: SSAValue, found: SSAValue) -> SSAValue:
            position = self.iadd(slot, self.emit(arith.IndexCastOp(p, i64)))
            entry = self.load(table, self.to_index(self.emit(arith.AndIOp(position, mask))))
            occupied = self.cmpi("sge", entry, self.constant(0, i64))
            key = self.load(
                keys, self.to_index(self.select(occupied, entry, self.constant(0, i64)))
            )
            equal = self.cmpf("oeq", key, x) if is_float else self.cmpi("eq", key, x)
            first = self.cmpi("slt", found, self.constant(0, i64))
            hit = self.emit(arith.AndIOp(self.emit(arith.AndIOp(occupied, equal)), first))
            return self.select(hit, entry, found)

        row = self.loop(self.constant(op.probes.value.data, index), self.constant(-1, i64), probe)
        if is_float and op.nan_row.value.data >= 0:
            nan_row = self.constant(op.nan_row.value.data, i64)
            row = self.select(self.cmpf("uno", x, x), nan_row, row)
        return [row]

    def pack_codes(self: KernelEmitter, op: feature.PackCodesOp) -> list[SSAValue]:
        packed, missing = self.constant(0, i64), self.constant(0, i1)
        zero = self.constant(0, i64)
        for value, radix in zip(op.codes, op.radix.data, strict=True):
            (code,) = self.row_of(value)
            missing = self.emit(arith.OrIOp(missing, self.cmpi("slt", code, zero)))
            scaled = self.emit(arith.MuliOp(packed, self.constant(radix.value.data, i64)))
            packed = self.iadd(scaled, code)
        return [self.select(missing, self.constant(-1, i64), packed)]

    def gather_rows(self: KernelEmitter, op: feature.GatherRowsOp) -> list[SSAValue]:
        (code,) = self.row_of(op.codes)
        width = op.values.shape[1]
        found = self.cmpi("sge", code, self.constant(0, i64))
        if op.on_missing.data == "python":
            self.hand_back(self.emit(arith.XOrIOp(found, self.constant(1, i1))), "lookup-miss")
        safe = self.select(found, code, self.constant(0, i64))
        base = self.emit(arith.MuliOp(self.to_index(safe), self.constant(width, index)))
        fill = self.constant(op.fill.value.data, f64)
        return [
            self.select(found, self.blob_value(op.values, self.at(base, j)), fill)
            for j in range(width)
        ]

    def join(self: KernelEmitter, op: feature.JoinOp) -> FrameRow:
        return self.frame_of(op.result)
