"""The row code of the text ops, for ``lower-feature-to-scf``.

Inside a kernel's row loop a ``!feature.text`` value is the row's code points after
preprocessing, each with its character class, held in per-kernel scratch buffers. A sparse
term row (``tensor<?xWxT, "csr">``) is one or more *segments*: sorted column indices and
values in scratch buffers plus their count, each segment placed at a column offset (an
``hstack`` of term rows is the list of their segments). Nothing is allocated in native code:
the runtime passes the scratch buffers, sized from the longest row of the batch, and the
code leaves every accumulator zeroed for the next row.

Per row:

* ``decode_text`` decodes UTF-8, maps each code point through the two-level table
  (lowercase + accent stripping, possibly several code points or none) and records its
  class (a row of ASCII bytes, each mapping to one code point, byte by byte through a
  128-entry table). A code point whose mapping depends on context (capital sigma) flags the
  row to run in Python; its terms are then left empty.
* ``count_terms`` cuts the code points into units (characters with white-space runs
  squeezed, or each word padded with spaces), hashes every n-gram incrementally (FNV-1a
  over code points, extended one unit at a time), probes the vocabulary table, and counts
  hits in a dense accumulator; word n-grams (tokens of ``\\b\\w\\w+\\b``) go through a
  trie over the vocabulary's tokens instead (``word_terms``). A two-level bitmap of touched
  columns then yields the counts in column order, which is scipy's CSR order. A word op
  followed by a char_wb op on the same text lowers it with its own: the char_wb word loop
  lists the word tokens (``WordTokens``), a cached word's from the char_wb word cache.
* ``weight_terms`` applies ``1 + log``, ``idf`` and the row norm (summed in column order,
  as scikit-learn's ``normalize``); ``sparse_linear`` dots the segments with ``coef``.
* Counts whose float64 ``weight_terms`` row only ``sparse_linear`` reads are never written
  out: ``sparse_linear`` weighs, normalises and dots them in one pass over the bitmap
  (``weigh_and_dot``); with idf and the l2 norm only (no ``binary``, no ``sublinear_tf``),
  ``count_terms`` tallies each occurrence straight into the decision values and the
  squared norm (``Tally``), with no bitmap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects import arith, func, math, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    StringAttr,
    UnitAttr,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from willump_mlir.abi import (
    EXACT_KEY,
    EXACT_KEY4,
    FNV_OFFSET,
    FNV_PRIME,
    GOLDEN,
    HASHED_KEY_MASK,
    KEY_BITS,
    ErrorKind,
    signed64,
)
from willump_mlir.blobs import BlobError
from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import BlobAttr, batch_width
from willump_mlir.frontend.text_tables import (
    EDGE_SHIFT,
    TOKEN_BYTES,
    TOKEN_FOLLOWS,
    TOKEN_ID_SHIFT,
    TOKEN_LENGTH_SHIFT,
    TOKEN_STARTS,
    TermTable,
    renumbered,
    reordered,
    word_index,
)
from willump_mlir.passes.kernel_builder import KernelBuilder

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

index = IndexType()

CLASS_WORD = 1
CLASS_SPACE = 2
CLASS_END = 4  # with CLASS_SPACE, after a row's last code point: every skip stops there
SPACE = 0x20
MAP_PYTHON = -1
WORD_CACHE_SLOTS = 1 << 16  # char_wb word cache: slots, in sets of WORD_CACHE_WAYS
WORD_CACHE_WAYS = 4  # a word's slot is one of the four of its set (32 bytes)
WORD_CACHE_ROOM = 1 << 20  # its arena (i32 entries: 4 MB)
WORD_CACHE_PATIENCE = 1 << 16  # words a full cache leaves out before it is emptied
CACHED_WORD = 64  # the longest word (code points) the cache keeps
#: a tally's stamp past which its counts are zeroed: below it, a row's counts (base + c)
#: stay in i32 for up to 2**30 occurrences of a term in one row
STAMP_LIMIT = 1 << 30


@dataclass
class TextRow:
    """A row's preprocessed code points ``cps[0:length]`` and their classes ``classes``."""

    cps: SSAValue
    classes: SSAValue
    length: SSAValue
    in_python: SSAValue


@dataclass
class Segment:
    """``count`` sorted columns ``ids`` (i32) with their ``values`` (f64), placed at
    column ``offset`` of the sparse row. ``finite``: every value is finite, or a value that
    is not has already stopped the batch (so no later op needs to check them)."""

    ids: SSAValue
    values: SSAValue
    count: SSAValue
    offset: int
    finite: bool = False


@dataclass
class TermsRow:
    segments: list[Segment]
    width: int


@dataclass
class PendingWeights:
    """A ``weight_terms`` row left in its counts' accumulator for its one ``sparse_linear``
    reader, which weighs, normalises and dots the terms in one pass."""

    op: feature.WeightTermsOp
    accumulator: tuple[SSAValue, ...]
    binary: bool
    #: the row's decision values, when ``count_terms`` tallied them (``Tally``): the
    #: accumulator is then unused
    decision: list[SSAValue] | None = None


@dataclass
class Tally:
    """Counts tallied straight into the decision values of their one linear reader, for a
    TF-IDF row with the options for which this is exact (counts, idf, l2 norm: no
    ``binary``, no ``sublinear_tf``). The decision ``sum(c * idf * coef) / norm`` is linear
    in the term counts ``c``: each occurrence adds ``idf * coef``; the squared norm
    ``sum((c * idf) ** 2)`` grows by ``idf**2 * (2c + 1)`` when a term seen ``c`` times
    occurs again, ``c`` read from a dense ``counts`` scratch that holds ``base + c`` for a
    term counted in the row, and at most ``base`` for any other: ``base`` is the ``stamp``
    at the row's start, which then moves past the row's counts, so no entry is zeroed (all
    are, with the stamp, once it passes ``STAMP_LIMIT``). Carried per row: ``[norm2,
    occurrences, *sums]``."""

    weights: feature.WeightTermsOp
    linear: feature.SparseLinearOp
    offset: int  # the column of ``coef`` of the first term
    counts: SSAValue
    stamp: SSAValue
    #: with idf: each term's ``[idf**2, idf * coef[0], ...]`` side by side (one cache line
    #: where ``idf`` and each row of ``coef`` were apart), the products rounded as the
    #: kernel rounded them
    terms: BlobAttr | None = None
    base: SSAValue | None = None  # i32: the row's stamp (``tally_start``)
    #: terms with idf, renumbered from the most frequent (lowest idf) on, so the counts
    #: and records of the terms most rows hit share cache lines: ``idf`` in their order
    #: (``terms`` is in it too) and, for char and char_wb terms, the vocabulary table
    #: ``(code points, offsets, slots, probes)`` giving the new numbers; for word terms,
    #: the ``order`` (term ``k`` is the old term ``order[k]``) in which ``word_terms``
    #: numbers the sequences of its trie (``word_index``)
    vocabulary: tuple[BlobAttr, BlobAttr, BlobAttr, int] | None = None
    idf: BlobAttr | None = None
    order: np.ndarray | None = None

    @property
    def outputs(self) -> int:
        return self.linear.coef.shape[0]


@dataclass
class WordTokens:
    """A word ``count_terms`` op's tokens, listed by the char_wb word loop of another op on
    the same text (a token never crosses white space): ``listed(start, end, n)`` lists the
    tokens of the white-space word ``cps[start:end]`` in ``positions`` from ``n`` on, each
    as ``word_terms`` lists it (its record in ``token_slots``, or -1), and returns the
    next ``n``; the loop sets ``count``, the row's number of tokens."""

    positions: SSAValue
    listed: Callable[[SSAValue, SSAValue, SSAValue], SSAValue]
    count: SSAValue | None = None


@dataclass
class Lookahead:
    """How ``each_run`` looks ahead: ``ahead(start, end, h)`` is emitted for the run two
    after the one counted (``h`` as ``hashed`` or ``packed`` give it; an empty run,
    ``start == end``, past the last), ``near(start, end, values)`` for the next one, with
    the values ``ahead`` returned for it, which ``body`` then gets instead of ``h``: loads
    and prefetches there overlap the work on the runs before (their cache misses no longer
    wait for a run's turn)."""

    ahead: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]]
    near: Callable[[SSAValue, SSAValue, list[SSAValue]], None]


@dataclass(frozen=True)
class ScratchSize:
    """How many elements a scratch buffer needs: ``fixed``, plus ``per_byte`` times the
    longest row (in UTF-8 bytes) of ``column`` of ``value`` (and so on for each of ``more``)."""

    fixed: int
    per_byte: int = 0
    value: str = ""
    column: str = ""
    more: tuple[tuple[int, str, str], ...] = ()  # further (per_byte, value, column) terms

    def attribute(self) -> DictionaryAttr:
        entries: dict[str, Attribute] = {"fixed": IntegerAttr(self.fixed, i64)}
        if self.per_byte:
            entries |= {
                "per_byte": IntegerAttr(self.per_byte, i64),
                "value": StringAttr(self.value),
                "column": StringAttr(self.column),
            }
        if self.more:
            entries["more"] = ArrayAttr(
                [ArrayAttr([IntegerAttr(k, i64), StringAttr(v), StringAttr(c)])
                 for k, v, c in self.more]
            )  # fmt: skip
        return DictionaryAttr(entries)


CACHED_HITS = "wm_char_wb_cached_hits"


def count_again(
    b: KernelBuilder, counts: SSAValue, at: SSAValue, base: SSAValue
) -> tuple[SSAValue, SSAValue]:
    """Count one more occurrence of term ``at`` in a tally's ``counts`` (``base + c`` for a
    term counted ``c`` times in the row, at most ``base`` for another): whether it was
    counted before in the row, and how many times (``c``, i32)."""
    entry = b.load(counts, at)
    seen = b.cmpi("sgt", entry, base)
    before = b.select(seen, b.isub(entry, base), b.constant(0, i32))
    b.store(b.iadd(b.select(seen, entry, base), b.constant(1, i32)), counts, at)
    return seen, before


def arena_i64(b: KernelBuilder, words: SSAValue, at: SSAValue) -> SSAValue:
    """The i64 whose bits are the i32 entries ``words[at]`` (low) and ``words[at + 1]``."""
    low = b.cast(b.load(words, at), i64)
    high = b.shl(b.cast(b.load(words, b.iadd(at, 1)), i64), 32)
    return b.ior(low, high)


def put_i64(b: KernelBuilder, value: SSAValue, words: SSAValue, at: SSAValue) -> None:
    """Store ``value`` (i64) as the i32 entries ``words[at]`` (low) and ``words[at + 1]``."""
    b.store(b.cast(value, i32), words, at)
    b.store(b.cast(b.shr(value, 32), i32), words, b.iadd(at, 1))


def arena_f64(b: KernelBuilder, words: SSAValue, at: SSAValue) -> SSAValue:
    """The f64 whose bits are the i32 entries ``words[at]`` (low) and ``words[at + 1]``."""
    return b.emit(arith.BitcastOp(arena_i64(b, words, at), f64))


def cached_hits_function(weighs: bool) -> func.FuncOp:
    """``@wm_char_wb_cached_hits[_idf](words, pending, number, header, counts, base, norm2[,
    terms, stride]) -> f64``: ``norm2`` plus, for each of the ``number`` cached char_wb
    words whose arena offsets ``pending`` lists, in order, the cross terms of its hits (term
    indices after its ``header`` entries and code points), each counted in ``counts`` from
    ``base`` (``count_again``): ``2c * idf**2`` (``weighs``, ``idf**2`` the first entry of
    the term's record of ``stride`` in ``terms``; else ``2c``) for a term counted ``c > 0``
    times before in the row; then its stored sum of ``idf**2``. A function of its own
    (``willump.noinline``), called once for a run of cached words: inlined in the row loop,
    its loop reloaded pointers the register allocator had spilled on every hit."""
    i32_ref, f64_ref = MemRefType(i32, [DYNAMIC_INDEX]), MemRefType(f64, [DYNAMIC_INDEX])
    types = [i32_ref, i32_ref, index, index, i32_ref, i32, f64]
    types += [f64_ref, index] if weighs else []
    entry = Block(arg_types=types)
    words, pending, number, header, counts, base, norm2, *record = entry.args
    b = KernelBuilder(entry)

    def word(p: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
        offset = b.cast(b.load(pending, p), index)
        length = b.cast(b.load(words, offset), index)
        hits = b.cast(b.load(words, b.iadd(offset, 1)), index)
        first = b.iadd(b.iadd(offset, header), length)

        def hit(k: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            at = b.cast(b.load(words, b.iadd(first, k)), index)
            seen, before = count_again(b, counts, at, base)

            def cross() -> list[SSAValue]:
                times = b.emit(arith.SIToFPOp(b.shl(before, 1), f64))
                if record:
                    terms, stride = record
                    times = b.emit(arith.MulfOp(b.load(terms, b.imul(at, stride)), times))
                return [b.add(carried[0], times)]

            return b.if_else(seen, cross, lambda: carried)

        (total,) = b.for_range(b.constant(0, index), hits, carried, hit)
        return [b.add(total, arena_f64(b, words, b.iadd(offset, 2)))]

    b.emit(func.ReturnOp(*b.for_range(b.constant(0, index), number, [norm2], word)))
    name = CACHED_HITS + ("_idf" if weighs else "")
    function = func.FuncOp(name, (types, [f64]), Region(entry), visibility="private")
    function.attributes["willump.noinline"] = UnitAttr()
    return function


class TextEmitter:
    """The text ops' handlers; mixed into ``KernelEmitter``."""

    # region Scratch buffers

    def scratch(self: KernelEmitter, name: str, element: Attribute, size: ScratchSize) -> SSAValue:
        """A scratch buffer argument of the kernel, allocated (zeroed) by the runtime."""
        key = (None, name, "scratch")
        if key not in self.state.input_args:  # type: ignore[comparison-overlap]
            arg = self.state.entry.insert_arg(
                MemRefType(element, [DYNAMIC_INDEX]), len(self.state.entry.args)
            )
            self.state.inputs.append(
                DictionaryAttr(
                    {
                        "value": StringAttr(name),
                        "part": StringAttr("scratch"),
                        "dtype": StringAttr(
                            {f64: "f64", i64: "i64", i32: "i32", i8: "i8"}[element]
                        ),
                        "size": size.attribute(),
                    }
                )
            )
            self.state.input_args[key] = arg  # type: ignore[index]
        return self.state.input_args[key]  # type: ignore[index]

    def scratch_name(self: KernelEmitter, op: object, what: str) -> str:
        return f"{self.state.name}.{self.lowering.numbers[op]}.{what}"  # type: ignore[index]

    # endregion
    # region decode_text

    def decode_text(self: KernelEmitter, op: feature.DecodeTextOp) -> TextRow:
        column = op.column.data
        derived = self.derived_string(op.frame)  # a transformed str column (string_kernels)
        if derived is not None:
            data, start, end, flag = derived.data, derived.start, derived.end, derived.missing
            size = derived.bound.times(op.expansion.value.data).size()
            site = self.lowering.error_site(op, column=column)
        else:
            frame = self.frame_of(op.frame)
            data = self.input(frame.value, column, "bytes", i8, text=True)
            offsets = self.input(frame.value, column, "offsets", i64, text=True)
            missing = self.input(frame.value, column, "missing", i8, text=True)
            site = self.lowering.error_site(
                op, value=self.lowering.value_name(frame.value), column=column
            )
            flag = self.load(missing, self.state.row)
            size = ScratchSize(
                1, op.expansion.value.data, self.lowering.value_name(frame.value), column
            )
            start = self.cast(self.load(offsets, self.state.row), index)
            end = self.cast(self.load(offsets, self.iadd(self.state.row, 1)), index)
        self.report_error(self.cmpi("ne", flag, self.constant(0, i8)), ErrorKind.NOT_TEXT, site)
        cps = self.scratch(self.scratch_name(op, "cps"), i32, size)
        classes = self.scratch(self.scratch_name(op, "classes"), i8, size)
        class_table = self.blob(op.char_classes)

        def put(count: SSAValue, cp: SSAValue) -> SSAValue:
            self.store(cp, cps, count)
            self.store(self.load(class_table, self.cast(cp, index)), classes, count)
            return self.iadd(count, 1)

        char_map = (op.char_index, op.char_blocks, op.char_sequences)
        length, in_python = self.map_code_points(data, start, end, char_map, put)
        self.hand_back(in_python, "text-context")
        # A row that runs in Python has no native terms.
        length = self.select(in_python, self.constant(0, index), length)
        # A space after the last code point ends every run of word or non-space characters,
        # and its end mark every skip past the code points outside a run.
        self.store(self.constant(CLASS_SPACE | CLASS_END, i8), classes, length)
        return TextRow(cps, classes, length, in_python)

    def map_code_points(
        self: KernelEmitter,
        data: SSAValue,
        start: SSAValue,
        end: SSAValue,
        char_map: tuple[BlobAttr, BlobAttr, BlobAttr],
        put: Callable[[SSAValue, SSAValue], SSAValue],
    ) -> tuple[SSAValue, SSAValue]:
        """Map each code point of the UTF-8 ``data[start:end]`` through ``char_map``
        (``text_tables.char_map``), handing each code point it becomes to ``put(count, cp)``,
        which returns the next ``count`` (from 0); return the last ``count`` and whether the
        row must run in Python (a ``MAP_PYTHON`` code point, or one past U+10FFFF). ASCII
        bytes that map to one code point each skip the decoding: eight at a time while the
        next eight all are, then one at a time, each from the table's first block (from
        ``ascii_map`` when every ASCII byte maps to one code point: a row of ASCII bytes
        then maps byte by byte, with no decoding)."""
        latin = self.shl(self.load(self.blob(char_map[0]), 0), 8)  # U+0000..U+00FF's block
        false = self.constant(0, i1)
        ascii_map = self.ascii_map(char_map)

        def ascii_code_points(position: SSAValue, width: int) -> tuple[list[SSAValue], SSAValue]:
            """What the ``width`` bytes from ``position`` map to if each is ASCII mapping to
            one code point (every byte has an entry in the first block), and whether all are."""
            blocks = self.blob(char_map[1])
            read = [self.cast(self.load(data, self.iadd(position, k)), i32) for k in range(width)]
            if ascii_map is not None:  # every ASCII byte maps to one code point: the table's
                high = read[0]
                for b in read[1:]:
                    high = self.ior(high, b)
                cps = [self.blob_value(ascii_map, self.cast(self.iand(b, 0x7F), index))
                       for b in read]  # fmt: skip
                return cps, self.cmpi("eq", self.iand(high, 0x80), self.constant(0, i32))
            entries = [self.load(blocks, self.cast(self.iadd(latin, b), index)) for b in read]
            high, odd = read[0], entries[0]
            for b, entry in zip(read[1:], entries[1:], strict=True):
                high, odd = self.ior(high, b), self.ior(odd, entry)
            flags = self.ior(self.iand(high, 0x80), self.iand(odd, 1))
            cps = [self.iadd(b, self.emit(arith.ShRSIOp(entry, self.constant(1, i32))))
                   for b, entry in zip(read, entries, strict=True)]  # fmt: skip
            return cps, self.cmpi("eq", flags, self.constant(0, i32))

        def ascii_run(width: int, values: list[SSAValue]) -> list[SSAValue]:
            """``[position, count]`` past the ASCII bytes from ``position``, ``width`` at a
            time while the next ``width`` bytes all are."""

            def step(values: list[SSAValue]) -> list[SSAValue]:
                position, count, _ = values

                def peek() -> list[SSAValue]:
                    cps, ascii = ascii_code_points(position, width)

                    def take() -> list[SSAValue]:
                        after = count
                        for cp in cps:
                            after = put(after, cp)
                        return [self.iadd(position, width), after, self.constant(1, i1)]

                    return self.if_else(ascii, take, lambda: [position, count, false])

                room = self.cmpi("ule", self.iadd(position, width), end)
                return self.if_else(room, peek, lambda: [position, count, false])

            return self.while_loop([*values, self.constant(1, i1)], lambda v: v[2], step)[:2]

        def step(values: list[SSAValue]) -> list[SSAValue]:
            position, count, in_python = values
            position, count = ascii_run(1, ascii_run(8, [position, count]))
            return self.if_else(
                self.cmpi("ult", position, end),
                lambda: one_code_point([position, count, in_python]),
                lambda: [position, count, in_python],
            )

        def one_code_point(values: list[SSAValue]) -> list[SSAValue]:
            position, count, in_python = values
            cp, width = self.decode_utf8(data, position)
            # A numpy str can hold a value past U+10FFFF: such a row runs in Python.
            valid = self.cmpi("ule", cp, self.constant(0x10FFFF, i32))
            cp = self.select(valid, cp, self.constant(0, i32))
            block = self.load(self.blob(char_map[0]), self.cast(self.shr(cp, 8), index))
            slot = self.iadd(self.shl(block, 8), self.iand(cp, 255))
            entry = self.load(self.blob(char_map[1]), self.cast(slot, index))
            entry = self.select(valid, entry, self.constant(MAP_PYTHON, i32))
            # Even: cp + (entry >> 1); -1: run the row in Python; odd: sequence entry >> 1.
            single = self.cmpi("eq", self.iand(entry, 1), self.constant(0, i32))
            shifted = self.emit(arith.ShRSIOp(entry, self.constant(1, i32)))

            def sequence() -> list[SSAValue]:
                python = self.cmpi("eq", entry, self.constant(MAP_PYTHON, i32))
                at = self.cast(self.select(python, self.constant(0, i32), shifted), index)
                sequences = self.blob(char_map[2])
                length = self.cast(self.load(sequences, at), index)
                first = self.iadd(at, 1)
                (after,) = self.for_range(
                    self.constant(0, index),
                    self.select(python, self.constant(0, index), length),
                    [count],
                    lambda k, c: [put(c[0], self.load(sequences, self.iadd(first, k)))],
                )
                return [after, self.emit(arith.OrIOp(in_python, python))]

            count, in_python = self.if_else(
                single, lambda: [put(count, self.iadd(cp, shifted)), in_python], sequence
            )
            return [self.iadd(position, width), count, in_python]

        def decoded() -> list[SSAValue]:
            return self.while_loop(
                [start, self.constant(0, index), false],
                lambda v: self.cmpi("ult", v[0], end),
                step,
            )[1:]

        if ascii_map is None:
            count, in_python = decoded()
            return count, in_python

        def high_bits(k: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            return [self.ior(values[0], self.load(data, k))]

        (high,) = self.for_range(start, end, [self.constant(0, i8)], high_bits)

        def ascii_row() -> list[SSAValue]:
            """Every byte is ASCII: each maps to one code point, from ``ascii_map``."""

            def each(k: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
                cp = self.blob_value(ascii_map, self.cast(self.load(data, k), index))
                return [put(values[0], cp)]

            (count,) = self.for_range(start, end, [self.constant(0, index)], each)
            return [count, false]

        ascii = self.cmpi("sge", high, self.constant(0, i8))  # no byte with its top bit set
        count, in_python = self.if_else(ascii, ascii_row, decoded)
        return count, in_python

    def ascii_map(
        self: KernelEmitter, char_map: tuple[BlobAttr, BlobAttr, BlobAttr]
    ) -> BlobAttr | None:
        """What each ASCII code point maps to (i32[128]), when each maps to one code point
        (so a row of ASCII bytes maps byte by byte through it, with no decoding), else None
        (also when the map's arrays are not at hand, as in a lit test of the lowering: every
        row is then decoded, with the same results)."""
        blobs = self.lowering.blobs
        try:
            block = int(blobs.array(char_map[0])[0])
            entries = blobs.array(char_map[1])[block * 256 : block * 256 + 128].astype(np.int64)
        except BlobError:
            return None
        if np.any(entries & 1):  # a sequence, or the row to Python
            return None
        return blobs.add("ascii_map", (np.arange(128) + (entries >> 1)).astype(np.int32))

    def decode_utf8(self: KernelEmitter, data: SSAValue, position: SSAValue) -> list[SSAValue]:
        """The code point starting at byte ``position`` (valid UTF-8) and its byte length."""

        def byte(k: int) -> SSAValue:
            return self.cast(self.load(data, self.iadd(position, k) if k else position), i32)

        def continuation(k: int) -> SSAValue:
            return self.iand(byte(k), 0x3F)

        def join(lead_bits: int, count: int) -> SSAValue:
            value = self.iand(byte(0), lead_bits)
            for k in range(1, count):
                value = self.ior(self.shl(value, 6), continuation(k))
            return value

        b0 = byte(0)

        def multibyte() -> list[SSAValue]:
            def three_or_four() -> list[SSAValue]:
                return self.if_else(
                    self.cmpi("ult", b0, self.constant(0xF0, i32)),
                    lambda: [join(0x0F, 3), self.constant(3, index)],
                    lambda: [join(0x07, 4), self.constant(4, index)],
                )

            return self.if_else(
                self.cmpi("ult", b0, self.constant(0xE0, i32)),
                lambda: [join(0x1F, 2), self.constant(2, index)],
                three_or_four,
            )

        return self.if_else(
            self.cmpi("ult", b0, self.constant(0x80, i32)),
            lambda: [b0, self.constant(1, index)],
            multibyte,
        )

    # endregion
    # region Units and n-grams

    def has_class(self: KernelEmitter, text: TextRow, position: SSAValue, bit: int) -> SSAValue:
        value = self.iand(self.load(text.classes, position), bit)
        return self.cmpi("ne", value, self.constant(0, i8))

    def word_units(
        self: KernelEmitter,
        op: feature.HashTermsOp,
        text: TextRow,
        units: SSAValue,
        starts: SSAValue,
    ) -> SSAValue:
        """Tokens of ``\\b\\w\\w+\\b`` (maximal runs of two or more word characters; of one
        or more with ``{short_tokens}``), minus
        stop words, written to ``units`` each followed by a space; ``starts[k]`` is where
        token k starts. Returns the number of tokens."""

        def token(run_start: SSAValue, end: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            h, tokens, at = values
            keep = self.is_token(op, text, h, run_start, end)

            def write() -> list[SSAValue]:
                self.store(self.cast(at, i32), starts, tokens)

                def copy(k: SSAValue, position: list[SSAValue]) -> list[SSAValue]:
                    self.store(self.load(text.cps, k), units, position[0])
                    return [self.iadd(position[0], 1)]

                (after,) = self.for_range(run_start, end, [at], copy)
                self.store(self.constant(SPACE, i32), units, after)
                return [self.iadd(tokens, 1), self.iadd(after, 1)]

            return self.if_else(keep, write, lambda: [tokens, at])

        tokens, at = self.each_token(text, [self.constant(0, index), self.constant(0, index)],
                                     token)  # fmt: skip
        self.store(self.cast(at, i32), starts, tokens)
        return tokens

    def each_token(
        self: KernelEmitter,
        text: TextRow,
        carried: list[SSAValue],
        body: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]],
    ) -> list[SSAValue]:
        """``carried = body(start, end, [h, *carried])`` for each run of word characters
        ``text.cps[start:end]`` in order, ``h`` its FNV-1a; the last ``carried``."""
        return self.each_run(text, CLASS_WORD, True, carried, body, hashed=True)

    def is_token(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        text: TextRow,
        h: SSAValue | None,
        start: SSAValue,
        end: SSAValue,
    ) -> SSAValue:
        """Whether the run of word characters ``text.cps[start:end]`` (FNV-1a ``h``, or None:
        computed here if needed) is a token: two or more characters (one, with
        ``{short_tokens}``), not a stop word."""
        length = self.isub(end, start)
        shortest = 1 if op.short_tokens is not None else 2
        keep = self.cmpi("uge", length, self.constant(shortest, index))
        stop = self.stop_table(op)
        if stop is None:
            return keep
        if h is None:
            h = self.hash_units(text.cps, start, end)
        found = self.lookup(stop, self.term_key(h, text.cps, start, length), text.cps, start,
                            length)  # fmt: skip
        is_stop = self.cmpi("sge", found, self.constant(0, i64))
        return self.emit(arith.AndIOp(keep, self.negate(is_stop)))

    def char_units(self: KernelEmitter, text: TextRow, units: SSAValue) -> SSAValue:
        """The characters with each run of two or more white-space characters replaced by
        one space (``re.sub(r"\\s\\s+", " ", doc)``). Returns their number."""

        def step(k: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            count, in_run = values
            space = self.has_class(text, k, CLASS_SPACE)
            following = self.iadd(k, 1)
            next_space = self.emit(
                arith.AndIOp(
                    self.cmpi("ult", following, text.length),
                    self.has_class(text, following, CLASS_SPACE),
                )
            )
            run = self.emit(arith.AndIOp(space, self.ior(in_run, next_space)))
            skip = self.emit(arith.AndIOp(run, in_run))
            cp = self.select(run, self.constant(SPACE, i32), self.load(text.cps, k))

            def write() -> list[SSAValue]:
                self.store(cp, units, count)
                return [self.iadd(count, 1)]

            (count,) = self.if_else(skip, lambda: [count], write)
            return [count, run]

        count, _ = self.for_range(
            self.constant(0, index), text.length, [self.constant(0, index), self.constant(0, i1)],
            step,
        )  # fmt: skip
        return count

    def hash_units(
        self: KernelEmitter,
        cps: SSAValue,
        start: SSAValue,
        end: SSAValue,
        h: SSAValue | None = None,
    ) -> SSAValue:
        """FNV-1a over code points ``cps[start:end]``, continuing from ``h``."""

        def mix(k: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            return [self.fnv_mix(values[0], self.emit(arith.ExtUIOp(self.load(cps, k), i64)))]

        initial = h if h is not None else self.constant(signed64(FNV_OFFSET), i64)
        return self.for_range(start, end, [initial], mix)[0]

    def fnv_mix(self: KernelEmitter, h: SSAValue, cp: SSAValue) -> SSAValue:
        """FNV-1a ``h`` (i64) continued over one code point ``cp`` (i64)."""
        return self.imul(self.emit(arith.XOrIOp(h, cp)), self.constant(FNV_PRIME, i64))

    def stop_table(
        self: KernelEmitter, op: feature.CountTermsOp | feature.HashTermsOp
    ) -> tuple | None:
        if op.stop_codepoints is None:
            return None
        assert op.stop_probes is not None  # the verifier checks the four go together
        return (op.stop_codepoints, op.stop_offsets, op.stop_table, op.stop_probes.value.data)

    def term_key(
        self: KernelEmitter, h: SSAValue, cps: SSAValue, start: SSAValue, length: SSAValue
    ) -> SSAValue:
        """``text_tables.term_key`` of ``cps[start:start+length]`` whose FNV-1a is ``h``: the
        code points packed under a tag when they fit (a short term), else ``h`` (a term of
        more than four code points is not looked at)."""
        zero = self.constant(0, i64)
        hashed = self.iand(h, HASHED_KEY_MASK)

        def short() -> list[SSAValue]:
            points = []
            for k in range(4):
                has = self.cmpi("ugt", length, self.constant(k, index))
                at = self.select(has, self.iadd(start, k), start)  # never past the row
                point = self.iadd(self.emit(arith.ExtUIOp(self.load(cps, at), i64)), 1)
                points.append(self.select(has, point, zero))
            largest = points[0]
            for point in points[1:3]:
                largest = self.emit(arith.MaxUIOp(largest, point))
            key = hashed
            for tag, bits, count in ((EXACT_KEY4, KEY_BITS[1], 4), (EXACT_KEY, KEY_BITS[0], 3)):
                if count == 4:
                    top = self.emit(arith.MaxUIOp(largest, points[3]))
                    fits = self.cmpi("eq", length, self.constant(4, index))
                else:
                    top = largest
                    fits = self.cmpi("ule", length, self.constant(3, index))
                small = self.cmpi("ult", top, self.constant(1 << bits, i64))
                packed = self.constant(signed64(tag), i64)
                for k in range(count):
                    packed = self.ior(packed, self.shl(points[k], bits * k))
                key = self.select(self.emit(arith.AndIOp(fits, small)), packed, key)
            return [key]

        return self.if_else(self.cmpi("ule", length, self.constant(4, index)), short,
                            lambda: [hashed])[0]  # fmt: skip

    def token_key(
        self: KernelEmitter,
        packed: SSAValue,
        high: SSAValue,
        cps: SSAValue,
        start: SSAValue,
        length: SSAValue,
    ) -> SSAValue:
        """``text_tables.token_key`` of the token ``cps[start:start+length]`` from its bytes
        and the OR of its code points (``each_run``'s ``packed``); only a token they do not
        hold is hashed, in a loop over its code points."""
        narrow = self.cmpi("ult", high, self.constant(256, i32))
        fits = self.emit(
            arith.AndIOp(self.cmpi("ule", length, self.constant(TOKEN_BYTES, index)), narrow)
        )
        sign = self.constant(signed64(1 << 63), i64)

        def exact() -> list[SSAValue]:
            tag = self.shl(self.cast(length, i64), TOKEN_LENGTH_SHIFT)
            return [self.ior(packed, self.ior(tag, sign))]

        def hashed() -> list[SSAValue]:
            h = self.hash_units(cps, start, self.iadd(start, length))
            return [self.iand(h, HASHED_KEY_MASK)]

        def longer() -> list[SSAValue]:
            """Eight code points below 256, the first from 8 to 127: the bytes are the key."""
            first = self.isub(self.shr(packed, 56), 8)
            eight = self.emit(
                arith.AndIOp(
                    self.cmpi("eq", length, self.constant(TOKEN_BYTES + 1, index)),
                    self.emit(arith.AndIOp(narrow, self.cmpi("ult", first,
                                                             self.constant(120, i64)))),
                )
            )  # fmt: skip
            return self.if_else(eight, lambda: [self.ior(packed, sign)], hashed)

        return self.if_else(fits, exact, longer)[0]

    def home_slot(self: KernelEmitter, key: SSAValue, size: int) -> SSAValue:
        """``text_tables.home_slot``: the first slot ``key`` probes in ``size`` slots."""
        bits = size.bit_length() - 1
        if not bits:
            return self.constant(0, i64)
        return self.shr(self.imul(key, signed64(GOLDEN)), 64 - bits)

    def lookup(
        self: KernelEmitter,
        table: tuple,
        key: SSAValue,
        cps: SSAValue,
        start: SSAValue,
        length: SSAValue,
        index_mask: int | None = None,
    ) -> SSAValue:
        """The index of the term ``cps[start:start+length]`` (``term_key`` ``key``) in a term
        table ``(code points, offsets, slots, probes)``, or -1: linear probing from the key's
        home slot until an empty slot, or ``probes`` slots (no term lies further from its
        home). Only a long term's code points are compared: a short term's key is exact.
        ``index_mask``: a slot holds more than the index, which is its bits under the mask
        (the whole slot value is returned)."""
        codepoints, offsets, slots = (self.blob(b) for b in table[:3])
        size = table[2].size // 2
        mask = self.constant(size - 1, i64)
        home = self.home_slot(key, size)
        last = self.iand(self.iadd(home, table[3] - 1), mask)
        exact = self.cmpi("slt", key, self.constant(0, i64))

        def probe(values: list[SSAValue]) -> SSAValue:
            return self.cmpi("eq", values[1], self.constant(-2, i64))

        def step(values: list[SSAValue]) -> list[SSAValue]:
            slot = values[0]
            at = self.cast(self.shl(slot, 1), index)
            term = self.load(slots, self.iadd(at, 1))
            occupied = self.cmpi("sge", term, self.constant(0, i64))
            same_key = self.cmpi("eq", self.load(slots, at), key)
            candidate = self.emit(arith.AndIOp(occupied, same_key))

            def compare() -> list[SSAValue]:
                term_at = self.cast(term if index_mask is None else self.iand(term, index_mask),
                                    index)  # fmt: skip
                term_start = self.cast(self.load(offsets, term_at), index)
                term_end = self.cast(self.load(offsets, self.iadd(term_at, 1)), index)
                same_length = self.cmpi("eq", self.isub(term_end, term_start), length)

                def equal() -> list[SSAValue]:
                    # to the first difference: a loop LLVM does not vectorise, so no set-up
                    # is hoisted to every lookup, most of which compare nothing (exact keys)
                    def more(values: list[SSAValue]) -> SSAValue:
                        k, same = values
                        return self.emit(arith.AndIOp(same, self.cmpi("ult", k, length)))

                    def check(values: list[SSAValue]) -> list[SSAValue]:
                        k = values[0]
                        a = self.load(cps, self.iadd(start, k))
                        b = self.load(codepoints, self.iadd(term_start, k))
                        return [self.iadd(k, 1), self.cmpi("eq", a, b)]

                    initial = [self.constant(0, index), self.constant(1, i1)]
                    return self.while_loop(initial, more, check)[1:]

                return self.if_else(same_length, equal, lambda: [self.constant(0, i1)])

            verify = self.emit(arith.AndIOp(candidate, self.negate(exact)))
            compared = self.if_else(verify, compare, lambda: [candidate])[0]
            found = self.emit(arith.AndIOp(candidate, compared))
            searching = self.emit(arith.AndIOp(occupied, self.cmpi("ne", slot, last)))
            result = self.select(
                found, term, self.select(searching, self.constant(-2, i64), self.constant(-1, i64))
            )
            following = self.iand(self.iadd(slot, 1), mask)
            return [following, result]

        def compared() -> list[SSAValue]:
            return self.while_loop([home, self.constant(-2, i64)], probe, step)[1:]

        def exact_key() -> list[SSAValue]:
            """An exact key is found in the slot that holds it, no code points compared
            (no exact key is -1, an empty slot's)."""

            def more(values: list[SSAValue]) -> SSAValue:
                at = self.cast(self.shl(values[0], 1), index)
                other = self.cmpi("ne", self.load(slots, at), key)
                taken = self.cmpi("sge", self.load(slots, self.iadd(at, 1)), self.constant(0, i64))
                going = self.emit(arith.AndIOp(taken, self.cmpi("ne", values[0], last)))
                return self.emit(arith.AndIOp(other, going))

            (slot,) = self.while_loop([home], more, lambda v: [self.iand(self.iadd(v[0], 1), mask)])
            at = self.cast(self.shl(slot, 1), index)
            found = self.cmpi("eq", self.load(slots, at), key)
            return [self.select(found, self.load(slots, self.iadd(at, 1)), self.constant(-1, i64))]

        return self.if_else(exact, exact_key, compared)[0]

    def compact_lookup(
        self: KernelEmitter, slots: BlobAttr, probes: int, key: SSAValue
    ) -> SSAValue:
        """The value under ``key`` (i64, below 2**31) in a compact table
        (``text_tables.edge_table``: each slot ``key << 32 | value``, empty -1), or -1:
        linear probing from the key's home slot until the key, an empty slot or ``probes``
        slots."""
        table = self.blob(slots)
        mask = self.constant(slots.size - 1, i64)
        home = self.home_slot(key, slots.size)
        last = self.iand(self.iadd(home, probes - 1), mask)

        def more(values: list[SSAValue]) -> SSAValue:
            entry = self.load(table, self.cast(values[0], index))
            going = self.emit(
                arith.AndIOp(
                    self.cmpi("sge", entry, self.constant(0, i64)),
                    self.cmpi("ne", values[0], last),
                )
            )
            return self.emit(arith.AndIOp(self.cmpi("ne", self.shr(entry, 32), key), going))

        (slot,) = self.while_loop([home], more, lambda v: [self.iand(self.iadd(v[0], 1), mask)])
        entry = self.load(table, self.cast(slot, index))
        found = self.cmpi("eq", self.shr(entry, 32), key)
        return self.select(found, self.iand(entry, 0xFFFFFFFF), self.constant(-1, i64))

    def ngrams(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        units: SSAValue,
        count: SSAValue,
        starts: SSAValue | None,
        hit: Callable[[SSAValue, SSAValue, SSAValue], None],
        base: SSAValue | None = None,
    ) -> None:
        """Call ``hit(key, start, end)`` for every n-gram of the ``count`` units, each
        n-gram being code points ``units[start:end]`` with ``term_key`` ``key``. Units are the
        single code points from ``base`` on (their keys are built as the n-grams grow), or
        (with ``starts``) space-separated tokens starting at ``starts[k]``."""
        low, high = op.ngram_min.value.data, op.ngram_max.value.data
        separator = 1 if starts is not None else 0

        def unit_start(k: SSAValue) -> SSAValue:
            if starts is not None:
                return self.cast(self.load(starts, k), index)
            return k if base is None else self.iadd(base, k)

        def from_unit(i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            first = unit_start(i)
            longest = self.min_index(self.isub(count, i), self.constant(high, index))

            def extend(n: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
                h, end, *packs = values
                last = self.iadd(i, n)  # the n-gram is units [i, i + n]
                new_end = self.isub(unit_start(self.iadd(last, 1)), separator)
                if starts is None:  # one code point: no loop
                    cp = self.emit(arith.ExtUIOp(self.load(units, end), i64))
                    h = self.fnv_mix(h, cp)
                    packs = self.pack_point(packs, self.iadd(cp, 1), n)
                else:
                    h = self.hash_units(units, end, new_end, h)

                def report() -> list[SSAValue]:
                    if starts is None:
                        key = self.packed_key(h, n, packs)
                    else:
                        key = self.term_key(h, units, first, self.isub(new_end, first))
                    hit(key, first, new_end)
                    return []

                if low > 1:
                    self.if_else(self.cmpi("uge", n, self.constant(low - 1, index)), report)
                else:
                    report()
                return [h, new_end, *packs]

            offset_basis = self.constant(signed64(FNV_OFFSET), i64)
            packs = [self.constant(0, i64)] * 3 if starts is None else []
            self.for_range(self.constant(0, index), longest, [offset_basis, first, *packs], extend)
            return []

        self.for_range(self.constant(0, index), count, [], from_unit)

    def pack_point(
        self: KernelEmitter, packs: list[SSAValue], point: SSAValue, n: SSAValue
    ) -> list[SSAValue]:
        """``packs`` (the ``KEY_BITS[0]`` and ``KEY_BITS[1]`` packings of an n-gram's code
        points plus one, and the largest of them) with ``point``, the n-gram's code point
        ``n`` plus one, added. Bits past a packing's last code point are never read."""
        short, short4, top = packs
        position = self.cast(n, i64)
        for_short = self.emit(arith.MinUIOp(position, self.constant(3, i64)))
        for_short4 = self.emit(arith.MinUIOp(position, self.constant(4, i64)))
        short = self.ior(short, self.shl(point, self.imul(for_short, KEY_BITS[0])))
        short4 = self.ior(short4, self.shl(point, self.imul(for_short4, KEY_BITS[1])))
        return [short, short4, self.emit(arith.MaxUIOp(top, point))]

    def packed_key(
        self: KernelEmitter, h: SSAValue, n: SSAValue, packs: list[SSAValue]
    ) -> SSAValue:
        """``term_key`` of an n-gram of ``n + 1`` code points from its FNV-1a ``h`` and its
        ``pack_point`` packings ``packs``."""
        short, short4, top = packs
        fits = self.emit(
            arith.AndIOp(
                self.cmpi("ule", n, self.constant(2, index)),
                self.cmpi("ult", top, self.constant(1 << KEY_BITS[0], i64)),
            )
        )
        fits4 = self.emit(
            arith.AndIOp(
                self.cmpi("eq", n, self.constant(3, index)),
                self.cmpi("ult", top, self.constant(1 << KEY_BITS[1], i64)),
            )
        )
        key = self.select(
            fits4,
            self.ior(short4, self.constant(signed64(EXACT_KEY4), i64)),
            self.iand(h, HASHED_KEY_MASK),
        )
        return self.select(fits, self.ior(short, self.constant(signed64(EXACT_KEY), i64)), key)

    def char_wb_words(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        text: TextRow,
        units: SSAValue,
        hit: Callable[[SSAValue, SSAValue, SSAValue], None],
    ) -> None:
        """The n-grams of each white-space separated word padded with a space on each side;
        a padded word shorter than the smallest n counts once as a whole, as scikit-learn's
        ``_char_wb_ngrams``. The padded words are written one after another to ``units``."""

        def word(start: SSAValue, end: SSAValue, base: list[SSAValue]) -> list[SSAValue]:
            return [self.padded_ngrams(op, text, units, start, end, base[0], hit)]

        self.each_word(text, [self.constant(0, index)], word)

    def each_word(
        self: KernelEmitter,
        text: TextRow,
        carried: list[SSAValue],
        body: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]],
        packed: bool = False,
        lookahead: Lookahead | None = None,
    ) -> list[SSAValue]:
        """``carried = body(start, end, carried)`` for each white-space separated word
        ``text.cps[start:end]`` in order; the last ``carried``. ``packed``, ``lookahead``: as
        ``each_run``."""
        return self.each_run(text, CLASS_SPACE, False, carried, body, packed=packed,
                             lookahead=lookahead)  # fmt: skip

    def each_run(
        self: KernelEmitter,
        text: TextRow,
        bit: int,
        inside: bool,
        carried: list[SSAValue],
        body: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]],
        hashed: bool = False,
        packed: bool = False,
        lookahead: Lookahead | None = None,
    ) -> list[SSAValue]:
        """``carried = body(start, end, carried)`` for each maximal run ``text.cps[start:end]``
        of code points whose class has ``bit`` set (``inside``) or clear (not ``inside``), in
        order; the last ``carried``. Two tight loops with no bound check: past the code points
        outside a run (from the one after a run's end, known to be outside), stopping at the
        latest on ``decode_text``'s ``CLASS_END`` after the last code point, then to the run's
        end, where the class of that position (a space) fails ``bit`` at the latest.
        ``hashed``: the second also computes the run's FNV-1a (``hash_units``), passed as
        ``body(start, end, [h, *carried])``; ``packed``: its code points a byte apiece in an
        i64 (the last lowest, those past the eighth from the end shifted out) and the OR of
        them (i32, below 256 when each is), as ``body(start, end, [bytes, high, *carried])``
        (``token_key``). ``lookahead``: the runs are scanned two ahead (``Lookahead``)."""

        def classed(k: SSAValue, mask: int) -> SSAValue:
            return self.iand(self.load(text.classes, k), mask)

        def scan_more(k: SSAValue, in_run: bool) -> SSAValue:
            """Whether a scan ``in_run`` (else outside runs) goes on past position ``k``."""
            if in_run:  # classes[length] (a space) is outside every run
                want = self.constant(bit if inside else 0, i8)
                return self.cmpi("eq", classed(k, bit), want)
            # outside a run and not the end: the bit as outside runs have it, no end mark
            want = self.constant(0 if inside else bit, i8)
            return self.cmpi("eq", classed(k, bit | CLASS_END), want)

        def scan(k: SSAValue, in_run: bool, h: list[SSAValue]) -> list[SSAValue]:
            """The first position from ``k`` that is not ``in_run`` (and ``h`` continued over
            the code points passed)."""

            def next_one(values: list[SSAValue]) -> list[SSAValue]:
                k, *h = values
                if hashed and h:
                    h = [self.fnv_mix(h[0], self.emit(arith.ExtUIOp(self.load(text.cps, k), i64)))]
                elif h:
                    return self.pack_next(text, k, *h)
                return [self.iadd(k, 1), *h]

            return self.while_loop([k, *h], lambda v: scan_more(v[0], in_run), next_one)

        def folded() -> list[SSAValue]:
            return (
                [self.constant(signed64(FNV_OFFSET), i64)] if hashed
                else [self.constant(0, i64), self.constant(0, i32)] if packed else []
            )  # fmt: skip

        def run_from(k: SSAValue) -> list[SSAValue]:
            """``[start, end, *h]`` of the first run from ``k``."""
            # One code point outside runs between two (one space) is the common case: the
            # first check is peeled, so that the loop and its set-up run for longer gaps only.
            (start,) = self.if_else(
                scan_more(k, False), lambda: scan(self.iadd(k, 1), False, []), lambda: [k]
            )
            return [start, *scan(start, True, folded())]

        def step(values: list[SSAValue]) -> list[SSAValue]:
            k, *carried = values
            start, end, *h = run_from(k)
            carried = self.if_else(
                self.cmpi("ult", start, end), lambda: body(start, end, [*h, *carried]),
                lambda: carried,
            )  # fmt: skip
            # classes[end] is outside the run (past the row when end is its length)
            return [self.iadd(end, 1), *carried]

        if lookahead is None:
            initial = [self.constant(0, index), *carried]
            return self.while_loop(initial, lambda v: self.cmpi("ult", v[0], text.length),
                                   step)[1:]  # fmt: skip

        def next_run(k: SSAValue) -> list[SSAValue]:
            """``[start, end, *ahead(...)]`` of the next run from ``k`` (empty past the row)."""
            start, end, *h = self.if_else(
                self.cmpi("ult", k, text.length), lambda: run_from(k),
                lambda: [text.length, text.length, *folded()],
            )  # fmt: skip
            return [start, end, *lookahead.ahead(start, end, h)]

        first = next_run(self.constant(0, index))
        second = next_run(self.iadd(first[1], 1))
        width = len(first)

        def pipelined(values: list[SSAValue]) -> list[SSAValue]:
            """This run counted, after ``ahead`` for the run two after it and ``near`` for
            the next: ``[*next, *after that, *carried]``."""
            start, end, *this = values[:width]
            following, rest = values[width : 2 * width], values[2 * width :]
            after = next_run(self.iadd(following[1], 1))
            lookahead.near(following[0], following[1], following[2:])
            return [*following, *after, *body(start, end, [*this, *rest])]

        final = self.while_loop(
            [*first, *second, *carried], lambda v: self.cmpi("ult", v[0], v[1]), pipelined
        )
        return final[2 * width :]

    def each_run_within(
        self: KernelEmitter,
        text: TextRow,
        start: SSAValue,
        end: SSAValue,
        carried: list[SSAValue],
        body: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]],
    ) -> list[SSAValue]:
        """``carried = body(run_start, run_end, [bytes, high, *carried])`` for each run of
        word characters in ``text.cps[start:end]``, in order, packed as ``each_run`` packs
        them; ``end`` is not a word character (a white-space word's end)."""

        def in_word(k: SSAValue) -> SSAValue:
            return self.cmpi("ne", self.iand(self.load(text.classes, k), CLASS_WORD),
                             self.constant(0, i8))  # fmt: skip

        def step(values: list[SSAValue]) -> list[SSAValue]:
            k, *carried = values

            def run() -> list[SSAValue]:
                folded = [k, self.constant(0, i64), self.constant(0, i32)]
                stop, *h = self.while_loop(
                    folded, lambda v: in_word(v[0]), lambda v: self.pack_next(text, *v)
                )
                return [stop, *body(k, stop, [*h, *carried])]

            return self.if_else(in_word(k), run, lambda: [self.iadd(k, 1), *carried])

        return self.while_loop([start, *carried], lambda v: self.cmpi("ult", v[0], end), step)[1:]

    def pack_next(
        self: KernelEmitter, text: TextRow, k: SSAValue, packed: SSAValue, high: SSAValue
    ) -> list[SSAValue]:
        """``[k + 1, bytes, high]`` with code point ``k`` packed (``each_run``'s ``packed``)."""
        cp = self.load(text.cps, k)
        wide = self.emit(arith.ExtUIOp(cp, i64))
        return [self.iadd(k, 1), self.ior(self.shl(packed, 8), wide), self.ior(high, cp)]

    def padded_ngrams(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        text: TextRow,
        units: SSAValue,
        run_start: SSAValue,
        end: SSAValue,
        base: SSAValue,
        hit: Callable[[SSAValue, SSAValue, SSAValue], None],
    ) -> SSAValue:
        """Write the word ``text.cps[run_start:end]`` padded with a space on each side to
        ``units[base:]`` and call ``hit`` on its char_wb n-grams; return the end of the
        padded word in ``units``."""
        low = op.ngram_min.value.data
        self.store(self.constant(SPACE, i32), units, base)
        shift = self.isub(self.iadd(base, 1), run_start)

        def copy(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            self.store(self.load(text.cps, k), units, self.iadd(k, shift))
            return []

        self.for_range(run_start, end, [], copy)
        padded = self.iadd(self.isub(end, run_start), 2)
        after = self.iadd(base, padded)
        self.store(self.constant(SPACE, i32), units, self.isub(after, 1))
        self.ngrams(op, units, padded, None, hit, base)
        if low > 3:  # a padded word has at least 3 characters

            def whole() -> list[SSAValue]:
                key = self.term_key(self.hash_units(units, base, after), units, base, padded)
                hit(key, base, after)
                return []

            self.if_else(self.cmpi("ult", padded, self.constant(low, index)), whole)
        return after

    def each_ngram(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        text: TextRow,
        hit: Callable[[SSAValue, SSAValue, SSAValue], None],
    ) -> None:
        """Run ``hit(key, start, end)`` on every n-gram of the row, as the analyzer cuts it,
        ``start`` and ``end`` indexing ``units_buffer(op)``."""
        analyzer = op.analyzer.data
        units = self.units_buffer(op)
        if analyzer == "word":
            assert isinstance(op, feature.HashTermsOp)  # count_terms: word_terms
            starts = self.scratch(self.scratch_name(op, "starts"), i32, self.text_scratch_size(op))
            tokens = self.word_units(op, text, units, starts)
            self.ngrams(op, units, tokens, starts, hit)
        elif analyzer == "char":
            self.ngrams(op, units, self.char_units(text, units), None, hit)
        else:
            self.char_wb_words(op, text, units, hit)

    def ngram_scratch_size(
        self: KernelEmitter, op: feature.CountTermsOp | feature.HashTermsOp
    ) -> ScratchSize:
        """N-grams of a row: at most (sizes + 1) per unit, units at most three per code point
        (a padded word of one letter is three units)."""
        sizes = op.ngram_max.value.data - op.ngram_min.value.data + 1
        return self.per_code_point(op, 8 * (sizes + 1), 3 * (sizes + 1))

    def units_buffer(
        self: KernelEmitter, op: feature.CountTermsOp | feature.HashTermsOp
    ) -> SSAValue:
        return self.scratch(self.scratch_name(op, "units"), i32, self.text_scratch_size(op))

    def text_scratch_size(
        self: KernelEmitter, op: feature.CountTermsOp | feature.HashTermsOp
    ) -> ScratchSize:
        """Units of a row: at most three per code point (a one-letter word padded with a
        space on each side) plus four."""
        return self.per_code_point(op, 4, 3)

    def per_code_point(
        self: KernelEmitter,
        op: feature.CountTermsOp | feature.HashTermsOp,
        fixed: int,
        per_code_point: int,
    ) -> ScratchSize:
        """``fixed`` plus ``per_code_point`` elements per code point the row's text decodes
        to (at most ``expansion`` per UTF-8 byte of the longest row)."""
        decode = op.text.owner
        assert isinstance(decode, feature.DecodeTextOp)
        derived = self.derived_string(decode.frame)  # a transformed str column
        if derived is not None:
            bound = derived.bound.times(per_code_point * decode.expansion.value.data)
            return bound.size(fixed)
        frame = self.frame_of(decode.frame).value
        return ScratchSize(
            fixed,
            per_code_point * decode.expansion.value.data,
            self.lowering.value_name(frame),
            decode.column.data,
        )

    # endregion
    # region Term rows

    def accumulator(self: KernelEmitter, op: object, width: int) -> tuple[SSAValue, ...]:
        """A dense i32 accumulator of ``width`` columns (i32 keeps it small enough to stay in
        cache) with a two-level bitmap of the columns touched (all zero between rows)."""
        counts = self.scratch(self.scratch_name(op, "counts"), i32, ScratchSize(width))
        bits = self.scratch(self.scratch_name(op, "bits"), i64, ScratchSize((width + 63) // 64))
        summary = self.scratch(
            self.scratch_name(op, "summary"), i64, ScratchSize((width + 4095) // 4096)
        )
        return counts, bits, summary

    def accumulate(
        self: KernelEmitter, accumulator: tuple[SSAValue, ...], column: SSAValue, amount: SSAValue
    ) -> None:
        counts, bits, summary = accumulator
        at = self.cast(column, index)
        self.store(self.iadd(self.load(counts, at), amount), counts, at)
        one = self.constant(1, i64)
        word = self.shr(column, 6)
        word_at = self.cast(word, index)
        bit = self.shl(one, self.iand(column, 63))
        self.store(self.ior(self.load(bits, word_at), bit), bits, word_at)
        summary_at = self.cast(self.shr(column, 12), index)
        summary_bit = self.shl(one, self.iand(word, 63))
        self.store(self.ior(self.load(summary, summary_at), summary_bit), summary, summary_at)

    def each_counted(
        self: KernelEmitter,
        accumulator: tuple[SSAValue, ...],
        width: int,
        carried: list[SSAValue],
        body: Callable[[SSAValue, SSAValue, list[SSAValue]], list[SSAValue]],
    ) -> list[SSAValue]:
        """``carried = body(column, count, carried)`` for each touched column (index) in
        increasing order with its i32 count; the accumulator is left zeroed."""
        counts, bits, summary = accumulator
        zero64 = self.constant(0, i64)
        one64 = self.constant(1, i64)

        def lowest_bits(
            word: SSAValue, body: Callable[[SSAValue, list[SSAValue]], list[SSAValue]],
            carried: list[SSAValue],
        ) -> list[SSAValue]:  # fmt: skip
            def each(values: list[SSAValue]) -> list[SSAValue]:
                rest, *state = values
                bit = self.emit(math.CountTrailingZerosOp(rest))
                rest = self.iand(rest, self.isub(rest, one64))
                return [rest, *body(bit, state)]

            return self.while_loop([word, *carried], lambda v: self.cmpi("ne", v[0], zero64), each)[
                1:
            ]

        def per_summary(s: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            word = self.load(summary, s)
            self.store(zero64, summary, s)
            base = self.shl(self.cast(s, i64), 6)

            def per_word(bit: SSAValue, state: list[SSAValue]) -> list[SSAValue]:
                word_index = self.ior(base, bit)
                word_at = self.cast(word_index, index)
                column_bits = self.load(bits, word_at)
                self.store(zero64, bits, word_at)
                column_base = self.shl(word_index, 6)

                def per_column(bit: SSAValue, state: list[SSAValue]) -> list[SSAValue]:
                    column = self.cast(self.ior(column_base, bit), index)
                    count = self.load(counts, column)
                    self.store(self.constant(0, i32), counts, column)
                    return body(column, count, state)

                return lowest_bits(column_bits, per_column, state)

            return lowest_bits(word, per_word, carried)

        return self.for_range(
            self.constant(0, index),
            self.constant((width + 4095) // 4096, index),
            carried,
            per_summary,
        )

    def drain(
        self: KernelEmitter,
        op: object,
        accumulator: tuple[SSAValue, ...],
        width: int,
        binary: bool,
    ) -> Segment:
        """The touched columns in increasing order with their values, as a segment (a column
        whose +1 and -1 hashes cancel stays, with 0, as after scipy's ``sum_duplicates``);
        the accumulator is left zeroed."""
        ids = self.scratch(self.scratch_name(op, "ids"), i32, ScratchSize(width))
        values = self.scratch(self.scratch_name(op, "values"), f64, ScratchSize(width))

        def entry(column: SSAValue, count: SSAValue, state: list[SSAValue]) -> list[SSAValue]:
            (number,) = state
            value = self.emit(arith.SIToFPOp(count, f64))
            self.store(self.cast(column, i32), ids, number)
            self.store(self.constant(1.0, f64) if binary else value, values, number)
            return [self.iadd(number, 1)]

        (count,) = self.each_counted(accumulator, width, [self.constant(0, index)], entry)
        return Segment(ids, values, count, 0, finite=True)  # counts

    def count_terms(
        self: KernelEmitter, op: feature.CountTermsOp
    ) -> TermsRow | PendingWeights:
        text = self.rows[op.text]
        assert isinstance(text, TextRow)
        width = op.terms
        weights = self.linear_weights(op)
        tally = self.tally_of(op, weights)
        accumulator = self.accumulator(op, width) if tally is None else ()
        one = self.constant(1, i32)

        def count(found: SSAValue, carried: list[SSAValue], part: str) -> list[SSAValue]:
            """Count the occurrence of term ``found`` (>= 0); ``part`` as ``tally_hit``."""
            if tally is not None:
                return self.tally_hit(tally, found, carried, part)
            self.accumulate(accumulator, found, one)
            return carried

        carried = [] if tally is None else self.tally_start(tally)
        if op.analyzer.data == "word":
            order = tally.order if tally is not None else None
            carried = self.word_terms(op, text, lambda t, c: count(t, c, "row"), carried, order)
        else:
            carried = self.char_terms(op, text, count, tally, carried)
        binary = op.binary is not None
        if tally is not None:
            assert weights is not None
            return PendingWeights(weights, (), binary, self.tally_decision(tally, carried))
        if weights is not None:
            return PendingWeights(weights, accumulator, binary)
        return TermsRow([self.drain(op, accumulator, width, binary)], width)

    def char_terms(
        self: KernelEmitter,
        op: feature.CountTermsOp,
        text: TextRow,
        count: Callable[[SSAValue, list[SSAValue], str], list[SSAValue]],
        tally: Tally | None,
        carried: list[SSAValue],
    ) -> list[SSAValue]:
        """Count the char or char_wb n-grams of the row that are terms (``carried =
        count(term, carried, part)``, ``part`` as ``tally_hit``) in two passes: hash every
        n-gram and touch its home slot (independent loads the CPU overlaps), then probe and
        count (the slots are in cache by then); char_wb words through ``char_wb_cached``."""
        vocabulary = (op.vocab_codepoints, op.vocab_offsets, op.vocab_table, op.probes.value.data)
        if tally is not None and tally.vocabulary is not None:
            vocabulary = tally.vocabulary
        units = self.units_buffer(op)
        room = self.ngram_scratch_size(op)
        keys = self.scratch(self.scratch_name(op, "keys"), i64, room)
        starts = self.scratch(self.scratch_name(op, "ngram_starts"), i32, room)
        lengths = self.scratch(self.scratch_name(op, "ngram_lengths"), i32, room)
        homes = self.scratch(self.scratch_name(op, "homes"), i64, room)
        counter = self.scratch(self.scratch_name(op, "ngrams"), i64, ScratchSize(1))
        slots = self.blob(vocabulary[2])

        def record(key: SSAValue, start: SSAValue, end: SSAValue) -> None:
            n = self.cast(self.load(counter, 0), index)
            length = self.isub(end, start)
            self.store(key, keys, n)
            self.store(self.cast(start, i32), starts, n)
            self.store(self.cast(length, i32), lengths, n)
            home = self.home_slot(key, vocabulary[2].size // 2)
            self.store(self.load(slots, self.cast(self.shl(home, 1), index)), homes, n)
            self.store(self.cast(self.iadd(n, 1), i64), counter, self.constant(0, index))

        def term(k: SSAValue) -> SSAValue:
            """The term index of recorded n-gram ``k``, or -1."""
            start = self.cast(self.load(starts, k), index)
            length = self.cast(self.load(lengths, k), index)
            return self.lookup(vocabulary, self.load(keys, k), units, start, length)

        self.store(self.constant(0, i64), counter, self.constant(0, index))
        if op.analyzer.data == "char_wb":
            return self.char_wb_cached(op, text, units, record, counter, term, count, tally,
                                       carried)  # fmt: skip
        self.each_ngram(op, text, record)

        def step(k: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            found = term(k)
            return self.if_else(
                self.cmpi("sge", found, self.constant(0, i64)),
                lambda: count(found, carried, "row"),
                lambda: carried,
            )

        total = self.cast(self.load(counter, 0), index)
        return self.for_range(self.constant(0, index), total, carried, step)

    def word_terms(
        self: KernelEmitter,
        op: feature.CountTermsOp,
        text: TextRow,
        count: Callable[[SSAValue, list[SSAValue]], list[SSAValue]],
        carried: list[SSAValue],
        order: np.ndarray | None = None,
    ) -> list[SSAValue]:
        """Count the word n-grams of the row that are terms (``carried = count(term,
        carried)``, in the order of the n-grams) through the vocabulary's trie over tokens
        (``text_tables.word_index``): each token is looked up once by its code points, in a
        table of the vocabulary's tokens, and an n-gram's id is the id of its first token
        extended by each next one through the (id, token) edges; an id below the number of
        terms is a term (term ``k`` is the vocabulary's ``order[k]``, with an ``order``).
        No n-gram is written out or hashed as code points."""
        low, high = op.ngram_min.value.data, op.ngram_max.value.data
        blobs = self.lowering.blobs
        codepoints, offsets = blobs.array(op.vocab_codepoints), blobs.array(op.vocab_offsets)
        if order is not None:
            codepoints, offsets = reordered(codepoints, offsets, order)
        built = word_index(codepoints, offsets, low, high)
        tokens_table = (
            *(blobs.add(f"word_tokens_{part}", getattr(built.tokens, part))
              for part in ("codepoints", "offsets")),
            blobs.add("word_token_slots", built.token_slots),
            built.tokens.probes,
        )  # fmt: skip
        edges = (*tokens_table[:2], blobs.add("word_edges", built.edges), built.edge_probes)

        def edge(sequence: SSAValue, token: SSAValue) -> SSAValue:
            """The id of ``sequence`` extended by ``token`` (its index), or -1."""
            if built.edge_bits:
                key = self.ior(self.shl(sequence, built.edge_bits), token)
                return self.compact_lookup(edges[2], edges[3], key)
            key = self.ior(self.shl(sequence, EDGE_SHIFT), token)
            key = self.ior(key, self.constant(signed64(1 << 63), i64))
            return self.lookup(edges, key, text.cps, zero, zero)
        positions = self.scratch(self.scratch_name(op, "tokens"), i64, self.text_scratch_size(op))
        zero, one = self.constant(0, index), self.constant(1, index)
        none = self.constant(-1, i64)
        terms = self.constant(op.terms, i64)

        def token(start: SSAValue, end: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            """The run's record in ``token_slots`` (-1: no term holds it) listed."""
            packed, high, tokens = values

            def listed() -> list[SSAValue]:
                length = self.isub(end, start)
                key = self.token_key(packed, high, text.cps, start, length)
                found = self.lookup(tokens_table, key, text.cps, start, length, TOKEN_STARTS - 1)
                self.store(found, positions, tokens)
                return [self.iadd(tokens, 1)]

            return self.if_else(self.is_token(op, text, None, start, end), listed,
                                lambda: [tokens])  # fmt: skip

        partner = self.char_wb_partner(op)
        if partner is None:
            (tokens,) = self.each_run(text, CLASS_WORD, True, [zero], token, packed=True)
        else:  # listed by the partner's word loop, lowered here, before this op's n-grams

            def listed(start: SSAValue, end: SSAValue, n: SSAValue) -> SSAValue:
                return self.each_run_within(text, start, end, [n], token)[0]

            listing = WordTokens(positions, listed)
            self.word_tokens[partner] = listing
            self.lower(partner)
            self.lowered_early.add(partner)
            assert listing.count is not None
            tokens = listing.count

        def counted(sequence: SSAValue, n: int | SSAValue, carried: list[SSAValue]):
            """``carried`` with ``sequence`` (an id, or -1) of ``n + 1`` tokens counted if it
            is a term and n-grams of that many tokens are."""
            is_term = self.cmpi("ult", sequence, terms)  # -1 is not
            if isinstance(n, int):
                if not low <= n + 1 <= high:
                    return carried
            elif low > 1:
                long_enough = self.cmpi("uge", n, self.constant(low - 1, index))
                is_term = self.emit(arith.AndIOp(is_term, long_enough))
            return self.if_else(is_term, lambda: count(sequence, carried), lambda: carried)

        def from_token(i: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            first = self.load(positions, i)

            def known() -> list[SSAValue]:
                sequence = self.shr(first, TOKEN_ID_SHIFT)
                longest = self.min_index(self.isub(tokens, i), self.constant(high, index))
                follows = self.constant(TOKEN_FOLLOWS | signed64(1 << 63), i64)

                def extend(n: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
                    sequence, *carried = values
                    following = self.load(positions, self.iadd(i, n))
                    alive = self.emit(
                        arith.AndIOp(
                            self.cmpi("sge", sequence, self.constant(0, i64)),
                            # a token that extends some sequence (and not -1)
                            self.cmpi("eq", self.iand(following, follows),
                                      self.constant(TOKEN_FOLLOWS, i64)),
                        )
                    )  # fmt: skip

                    def step() -> list[SSAValue]:
                        found = edge(sequence, self.iand(following, TOKEN_STARTS - 1))
                        return [found, *counted(found, n, carried)]

                    return self.if_else(alive, step, lambda: [none, *carried])

                first_counted = counted(sequence, 0, carried)
                # a one-token sequence with no edge extends no further (-1)
                starts = self.cmpi("ne", self.iand(first, TOKEN_STARTS), self.constant(0, i64))
                extended = self.select(starts, sequence, none)
                return self.for_range(one, longest, [extended, *first_counted], extend)[1:]

            known_token = self.cmpi("sge", first, self.constant(0, i64))
            return self.if_else(known_token, known, lambda: carried)

        return self.for_range(zero, tokens, carried, from_token)

    def char_wb_partner(self: KernelEmitter, op: feature.CountTermsOp) -> Operation | None:
        """A char_wb ``count_terms`` op of this row loop after the word op ``op``, on its
        text: its word loop, lowered with ``op``'s, lists ``op``'s tokens (``WordTokens``),
        a cached white-space word's from the cache, with no scan, key or probe."""
        if op not in self.ops:
            return None
        later = list(self.ops)[list(self.ops).index(op) + 1 :]
        for other in later:
            if (
                isinstance(other, feature.CountTermsOp)
                and other.text == op.text
                and other.analyzer.data == "char_wb"
                and other not in self.word_tokens
            ):
                return other
        return None

    def linear_weights(
        self: KernelEmitter, op: feature.CountTermsOp
    ) -> feature.WeightTermsOp | None:
        """The ``weight_terms`` op that alone reads ``op``'s counts when its float64 weights
        (no table of float32 logs) go only to one ``sparse_linear`` and neither is written
        out: ``sparse_linear`` then weighs, normalises and dots the counted terms in one pass
        (``weigh_and_dot``), with no buffers of ids and values between."""
        stored = self.state.stored
        uses = list(op.result.uses)
        if len(uses) != 1 or op.result in stored:
            return None
        weight = uses[0].operation
        if not isinstance(weight, feature.WeightTermsOp) or weight.result in stored:
            return None
        element = weight.result.type.get_element_type()  # type: ignore[attr-defined]
        if weight.log_table is not None or element != f64:
            return None
        readers = list(weight.result.uses)
        if len(readers) != 1 or not isinstance(readers[0].operation, feature.SparseLinearOp):
            return None
        return weight

    def tally_of(
        self: KernelEmitter, op: feature.CountTermsOp, weights: feature.WeightTermsOp | None
    ) -> Tally | None:
        """A ``Tally`` of ``op``'s counts into the decision values of the model reading
        ``weights``, when the weights are counts times idf (or counts), l2-normalised."""
        if weights is None or op.binary is not None or weights.sublinear_tf is not None:
            return None
        if weights.norm.data != "l2":
            return None
        (use,) = weights.result.uses
        linear = use.operation
        assert isinstance(linear, feature.SparseLinearOp)
        offset = self.linear_offsets(linear)[use.index]
        counts = self.scratch(self.scratch_name(op, "counts"), i32, ScratchSize(op.terms))
        stamp = self.scratch(self.scratch_name(op, "stamp"), i64, ScratchSize(1))
        tally = Tally(weights, linear, offset, counts, stamp, idf=weights.idf)
        if weights.idf is not None:
            blobs = self.lowering.blobs
            idf = blobs.array(weights.idf)
            coef = blobs.array(linear.coef)[:, offset : offset + op.terms]
            with np.errstate(all="ignore"):  # inf and NaN as the kernel would make them
                record = np.column_stack([idf * idf, idf[:, None] * coef.T])
            order = np.argsort(idf, kind="stable")
            record = record[order]
            tally.idf = blobs.add("tally_idf", idf[order])
            if op.analyzer.data == "word":  # numbered so by ``word_terms``'s trie
                tally.order = order
            else:
                tally.vocabulary = self.renumbered_vocabulary(op, order)
            tally.terms = blobs.add("tally_terms", record)
        return tally

    def renumbered_vocabulary(
        self: KernelEmitter, op: feature.CountTermsOp, order: np.ndarray
    ) -> tuple[BlobAttr, BlobAttr, BlobAttr, int]:
        """``op``'s vocabulary table with term ``k`` the old term ``order[k]``."""
        blobs = self.lowering.blobs
        table = TermTable(
            codepoints=blobs.array(op.vocab_codepoints),
            offsets=blobs.array(op.vocab_offsets),
            table=blobs.array(op.vocab_table),
            probes=op.probes.value.data,
        )
        new = renumbered(table, order)
        return (
            blobs.add("renumbered_codepoints", new.codepoints),
            blobs.add("renumbered_offsets", new.offsets),
            blobs.add("renumbered_table", new.table),
            new.probes,
        )

    def tally_start(self: KernelEmitter, tally: Tally) -> list[SSAValue]:
        """The row's stamp (the counts zeroed first when it passed ``STAMP_LIMIT``) and its
        carried values before any term."""
        at = self.constant(0, index)
        stamp = self.load(tally.stamp, at)

        def restart() -> list[SSAValue]:
            def clear(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                self.store(self.constant(0, i32), tally.counts, k)
                return []

            terms = tally.weights.result.type.get_shape()[1]  # type: ignore[attr-defined]
            self.for_range(at, self.constant(terms, index), [], clear)
            self.store(self.constant(0, i64), tally.stamp, at)
            return [self.constant(0, i64)]

        passed = self.cmpi("sgt", stamp, self.constant(STAMP_LIMIT, i64))
        (stamp,) = self.if_else(passed, restart, lambda: [stamp])
        tally.base = self.cast(stamp, i32)
        zero = self.constant(0.0, f64)
        return [zero, self.constant(0, index)] + [zero] * tally.outputs

    def tally_hit(
        self: KernelEmitter,
        tally: Tally,
        term: SSAValue,
        carried: list[SSAValue],
        part: str = "row",
    ) -> list[SSAValue]:
        """``carried`` with an occurrence of ``term`` counted, where the term was counted
        ``c`` times before in the row. ``part``: ``row``, carried ``[norm2, occurrences,
        *sums]``: the squared norm grows by ``idf**2 * (2c + 1)``, ``sums`` by ``idf * coef``;
        ``word`` (a char_wb word looked up), ``[norm2, occurrences, own, *sums]``: ``norm2``
        grows by ``2c * idf**2`` (nothing when ``c`` is 0), the word's ``own`` by ``idf**2``
        and its ``sums`` by ``idf * coef`` (a cached word's hits: ``cached_hits``)."""
        norm2, occurrences, *rest = carried
        at = self.cast(term, index)
        assert tally.base is not None
        seen, before = count_again(self, tally.counts, at, tally.base)
        occurrences = self.iadd(occurrences, 1)

        weighs = tally.terms is not None
        record = self.imul(at, 1 + tally.outputs) if weighs else at

        def entry(k: int) -> SSAValue:
            """Entry ``k`` of the term's record in ``tally.terms``."""
            assert tally.terms is not None
            return self.blob_value(tally.terms, self.iadd(record, k) if k else record)

        def squared(factor: SSAValue) -> SSAValue:
            """``factor * idf**2``."""
            times = self.emit(arith.SIToFPOp(factor, f64))
            if not weighs:
                return times
            return self.emit(arith.MulfOp(entry(0), times))

        if part == "row":
            norm2 = self.add(norm2, squared(self.iadd(self.shl(before, 1), 1)))
        else:  # the word's own squares are summed apart: the rest only when c > 0

            def cross() -> list[SSAValue]:
                return [self.add(norm2, squared(self.shl(before, 1)))]

            (norm2,) = self.if_else(seen, cross, lambda: [norm2])
        if part == "word":
            own, *rest = rest
            own = self.add(own, entry(0) if weighs else self.constant(1.0, f64))
        if weighs:
            weighed = [entry(1 + j) for j in range(len(rest))]
        else:
            coef = self.blob(tally.linear.coef)
            features = tally.linear.coef.shape[1]
            column = self.iadd(at, tally.offset)
            weighed = [self.load(coef, self.iadd(column, j * features)) for j in range(len(rest))]
        sums = [self.add(s, w) for s, w in zip(rest, weighed, strict=True)]
        return [norm2, occurrences, *([own] if part == "word" else []), *sums]

    def tally_decision(
        self: KernelEmitter, tally: Tally, carried: list[SSAValue]
    ) -> list[SSAValue]:
        """The decision values ``sums / sqrt(norm2)`` of a tallied row (a row without terms:
        ``sums``, zeros); the stamp moves past its counts. A non-finite sum is looked into
        (every term's count: rare): a NaN or infinite weight ``c * idf`` stops the batch as
        ``weight_terms`` does, and a sum that overflowed from finite weights hands the row to
        Python (``linear-range``)."""
        norm2, occurrences, *sums = carried
        base = tally.base
        assert base is not None
        infinity = self.constant(float("inf"), f64)
        finite = self.constant(1, i1)
        for x in (norm2, *sums):  # ordered and not infinite
            finite = self.emit(arith.AndIOp(finite, self.cmpf("olt", self.emit(math.AbsFOp(x)),
                                                               infinity)))  # fmt: skip
        false = self.constant(0, i1)

        def weights_checked() -> list[SSAValue]:
            def check(at: SSAValue, flags: list[SSAValue]) -> list[SSAValue]:
                entry = self.load(tally.counts, at)
                value = self.emit(arith.SIToFPOp(self.isub(entry, base), f64))
                if tally.idf is not None:
                    value = self.emit(arith.MulfOp(value, self.blob_value(tally.idf, at)))
                counted = self.cmpi("sgt", entry, base)  # in this row
                checked = self.nonfinite(value, flags)
                return [self.select(counted, c, f) for c, f in zip(checked, flags, strict=True)]

            terms = tally.weights.result.type.get_shape()[1]  # type: ignore[attr-defined]
            zero = self.constant(0, index)
            return self.for_range(zero, self.constant(terms, index), [false, false], check)

        flags = self.if_else(self.negate(finite), weights_checked, lambda: [false, false])
        self.report_nonfinite(tally.weights, flags)
        flagged = self.ior(flags[0], flags[1])
        self.hand_back(
            self.emit(arith.AndIOp(self.negate(finite), self.negate(flagged))), "linear-range"
        )

        # Past every count of the row: none exceeds its number of occurrences.
        after = self.iadd(self.emit(arith.ExtSIOp(base, i64)), self.cast(occurrences, i64))
        self.store(self.iadd(after, 1), tally.stamp, self.constant(0, index))
        norm = self.emit(math.SqrtOp(norm2))
        zero = self.constant(0.0, f64)  # scikit-learn leaves a row of zeros as it is
        norm = self.select(self.cmpf("oeq", norm, zero), self.constant(1.0, f64), norm)
        return [self.emit(arith.DivfOp(s, norm)) for s in sums]

    def cached_hits(
        self: KernelEmitter,
        tally: Tally,
        words: SSAValue,
        pending: SSAValue,
        number: SSAValue,
        header: int,
        norm2: SSAValue,
    ) -> SSAValue:
        """``norm2`` with the hits of the ``number`` cached char_wb words at the arena
        offsets ``pending`` lists counted (as ``tally_hit`` counts a word's hits, with its own
        squares stored), their cross terms and own squares added in order, by
        ``@wm_char_wb_cached_hits``."""
        weighs = tally.terms is not None
        function = cached_hits_function(weighs)
        name = function.sym_name.data
        if name not in self.lowering.declared:
            self.lowering.declare_function(function)
        assert tally.base is not None
        header_at = self.constant(header, index)
        arguments = [words, pending, number, header_at, tally.counts, tally.base, norm2]
        if tally.terms is not None:
            dynamic = MemRefType(f64, [DYNAMIC_INDEX])
            arguments.append(self.emit(memref.CastOp.get(self.blob(tally.terms), dynamic)))
            arguments.append(self.constant(1 + tally.outputs, index))
        return self.emit(func.CallOp(name, arguments, [f64]))

    def char_wb_cached(
        self: KernelEmitter,
        op: feature.CountTermsOp,
        text: TextRow,
        units: SSAValue,
        record: Callable[[SSAValue, SSAValue, SSAValue], None],
        counter: SSAValue,
        term: Callable[[SSAValue], SSAValue],
        count: Callable[[SSAValue, list[SSAValue], str], list[SSAValue]],
        tally: Tally | None,
        carried: list[SSAValue],
    ) -> list[SSAValue]:
        """Count the char_wb n-grams of each word through a word cache: a word's n-grams
        never cross its padding, so its vocabulary hits depend on its code points alone.
        ``carried = count(term, carried, part)`` counts an occurrence (``part`` as
        ``tally_hit``); returns the last ``carried``.

        The cache lives in scratch buffers the runtime keeps per thread and kernel across
        calls (all zero: empty). A word's key (``token_key``: its code points a byte apiece
        for a word of at most ``TOKEN_BYTES`` code points below 256, packed as the scan
        passes them, else its FNV-1a) picks a set of ``WORD_CACHE_WAYS`` of the
        ``WORD_CACHE_SLOTS`` slots, in the order the words came (the first, frequent words
        are found first; an empty slot ends the set's words, and a new word takes the first
        empty slot, or the last slot of a full set). A slot is two entries of ``slots``: the
        word's key (an exact key is the word: only a hashed one compares code points) and
        one plus the word's offset in the arena ``words``, which holds there the number of
        code points it keeps (a hashed key's word: its length; an exact key's: none, its key
        is the word), its number of hits, (with a ``tally``) its sum of ``idf**2`` and its
        sums of ``idf * coef``, one per output, over its hits (the bits of each f64 in two
        entries), the code points kept and its hits' term indices (once per occurrence).
        A word found in
        the cache (same code points) adds its hits at once (with a tally: its sums, and its
        offset to ``pending``, whose words' hits one call of ``cached_hits`` counts before
        the next word not found, or at the row's end); the n-grams of another are
        ``record``-ed, then looked up and counted, and a word of at most ``CACHED_WORD``
        code points is stored while the arena has room. With a ``WordTokens`` listing
        (a word op's on the same text), the header ends with the word's number of tokens
        and its first token (two entries), the others stored after its hits: a cached word
        lists them from there, another through ``listing.listed``. Words are counted in their order,
        cached or not, so the sums' rounding does not depend on what the cache holds. A full
        cache keeps its words (the frequent ones came first) until ``WORD_CACHE_PATIENCE``
        words did not fit, then is emptied."""
        name = self.scratch_name
        outputs = tally.outputs if tally is not None else 0
        listing = self.word_tokens.get(op)
        header = 2 + 2 * (1 + outputs) if tally is not None else 2  # entries before the cps
        # the number of tokens and the first token (two entries) end the header: read with
        # it, in its cache line (after the hits they took a line of their own)
        header += 3 if listing is not None else 0
        slots = self.scratch(name(op, "word_slots"), i64, ScratchSize(2 * WORD_CACHE_SLOTS))
        words = self.scratch(name(op, "words"), i32, ScratchSize(WORD_CACHE_ROOM))
        used_cell = self.scratch(name(op, "words_used"), i64, ScratchSize(1))
        left_out = self.scratch(name(op, "words_left_out"), i64, ScratchSize(1))
        if tally is not None:  # the arena offsets of the cached words whose hits wait
            pending = self.scratch(name(op, "words_pending"), i32, self.per_code_point(op, 1, 1))
        zero = self.constant(0, index)
        zero64 = self.constant(0, i64)
        false = self.constant(0, i1)

        def same_word(offset: SSAValue, start: SSAValue, length: SSAValue) -> SSAValue:
            """Whether the arena entry at ``offset`` is the word ``text.cps[start:][:length]``."""

            def same() -> list[SSAValue]:
                def check(k: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
                    a = self.load(words, self.iadd(self.iadd(offset, header), k))
                    b = self.load(text.cps, self.iadd(start, k))
                    return [self.emit(arith.AndIOp(acc[0], self.cmpi("eq", a, b)))]

                return self.for_range(zero, length, [self.constant(1, i1)], check)

            stored = self.cast(self.load(words, offset), index)
            return self.if_else(self.cmpi("eq", stored, length), same, lambda: [false])[0]

        def put_f64(value: SSAValue, at: SSAValue) -> None:
            put_i64(self, self.emit(arith.BitcastOp(value, i64)), words, at)

        def with_word(carried: list[SSAValue], word: list[SSAValue]) -> list[SSAValue]:
            """The row's ``[norm2, occurrences, *sums]`` plus a word's ``[own, *sums]``."""
            norm2, occurrences, *sums = carried
            own, *word_sums = word
            sums = [self.add(s, w) for s, w in zip(sums, word_sums, strict=True)]
            return [self.add(norm2, own), occurrences, *sums]

        def cached(offset: SSAValue, kept: SSAValue, carried: list[SSAValue]):
            first = self.iadd(self.iadd(offset, header), kept)
            number = self.cast(self.load(words, self.iadd(offset, 1)), index)

            def add(k: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
                found = self.emit(arith.ExtUIOp(self.load(words, self.iadd(first, k)), i64))
                return count(found, carried, "cached")

            if tally is None:
                return self.for_range(zero, number, carried, add)
            # the word's hits, cross terms and own squares wait in ``pending`` (flush)
            waiting, norm2, occurrences, *sums = carried
            self.store(self.cast(offset, i32), pending, waiting)
            word_sums = [arena_f64(self, words, self.iadd(offset, 4 + 2 * j))
                         for j in range(outputs)]  # fmt: skip
            sums = [self.add(s, w) for s, w in zip(sums, word_sums, strict=True)]
            return [self.iadd(waiting, 1), norm2, self.iadd(occurrences, number), *sums]

        def flush(carried: list[SSAValue]) -> list[SSAValue]:
            """The row's ``[norm2, occurrences, *sums]`` with the pending cached words'
            hits counted and squares added, from ``[waiting, norm2, occurrences, *sums]``."""
            assert tally is not None
            waiting, norm2, *rest = carried
            return [self.cached_hits(tally, words, pending, waiting, header, norm2), *rest]

        def tokens_of(offset: SSAValue, kept: SSAValue, n: SSAValue) -> SSAValue:
            """``n`` after the tokens of the cached word at ``offset`` are listed. Most
            words hold one token: the first is in the header, the others after the hits (a
            loop of them became a call of ``memcpy``, ~25 instructions for one or two)."""
            assert listing is not None
            number = self.cast(self.load(words, self.iadd(offset, header - 3)), index)
            hits = self.cast(self.load(words, self.iadd(offset, 1)), index)
            at = self.iadd(self.iadd(self.iadd(offset, header), kept), hits)

            def copy(k: SSAValue, _: list[SSAValue] | None = None) -> list[SSAValue]:
                token = arena_i64(self, words, self.iadd(at, self.shl(self.isub(k, 1), 1)))
                self.store(token, listing.positions, self.iadd(n, k))
                return []

            def first() -> list[SSAValue]:
                token = arena_i64(self, words, self.iadd(offset, header - 2))
                self.store(token, listing.positions, n)
                self.for_range(self.constant(1, index), number, [], copy)
                return []

            self.if_else(self.cmpi("ne", number, zero), first)
            return self.iadd(n, number)

        def missed(
            start: SSAValue,
            end: SSAValue,
            key: SSAValue,
            at: SSAValue,
            carried: list[SSAValue],
            tokens: list[SSAValue],
        ) -> list[SSAValue]:
            """``tokens``: ``[first, end]`` of the word's tokens in ``listing.positions``."""
            length = self.isub(end, start)
            self.store(zero64, counter, zero)
            self.padded_ngrams(op, text, units, start, end, zero, record)
            last = self.cast(self.load(counter, 0), index)
            keep = self.cmpi("ule", length, self.constant(CACHED_WORD, index))
            used = self.cast(self.load(used_cell, 0), index)
            # only a hashed key's code points are kept (an exact key is the word)
            kept = self.select(self.cmpi("sge", key, zero64), length, zero)
            need = self.iadd(self.iadd(kept, header), last)
            if tokens:
                need = self.iadd(need, self.shl(self.isub(tokens[1], tokens[0]), 1))
            full = self.emit(
                arith.AndIOp(
                    keep,
                    self.cmpi(
                        "ugt", self.iadd(used, need), self.constant(WORD_CACHE_ROOM, index)
                    ),
                )
            )

            def empty() -> list[SSAValue]:
                def clear(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                    self.store(zero64, slots, k)
                    return []

                self.for_range(zero, self.constant(2 * WORD_CACHE_SLOTS, index), [], clear)
                self.store(zero64, left_out, zero)
                return [zero, keep]

            def left() -> list[SSAValue]:
                count = self.iadd(self.load(left_out, 0), self.constant(1, i64))
                self.store(count, left_out, zero)
                patience = self.constant(WORD_CACHE_PATIENCE, i64)
                return self.if_else(self.cmpi("uge", count, patience), empty, lambda: [used, false])

            used, keep = self.if_else(full, left, lambda: [used, keep])
            hits_at = self.iadd(self.iadd(used, header), kept)
            # With a tally, the word's own sums start from zero and join the row's after.
            zero_sum = self.constant(0.0, f64)
            inner = carried if tally is None else [*carried[:2], *[zero_sum] * (1 + outputs)]

            def each(k: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
                n, *inner = values
                found = term(k)
                hit = self.cmpi("sge", found, self.constant(0, i64))

                def add() -> list[SSAValue]:
                    counted = count(found, inner, "word")

                    def keep_hit() -> list[SSAValue]:
                        self.store(self.cast(found, i32), words, self.iadd(hits_at, n))
                        return [self.iadd(n, 1)]

                    return self.if_else(keep, keep_hit, lambda: [n]) + counted

                return self.if_else(hit, add, lambda: [n, *inner])

            n, *inner = self.for_range(zero, last, [zero, *inner], each)
            word = inner[2:]  # with a tally: own, *sums

            def store() -> None:
                self.store(self.cast(kept, i32), words, used)
                self.store(self.cast(n, i32), words, self.iadd(used, 1))
                shift = self.isub(self.iadd(used, header), start)

                def copy(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                    self.store(self.load(text.cps, k), words, self.iadd(k, shift))
                    return []

                self.for_range(start, self.iadd(start, kept), [], copy)
                pair = self.shl(at, 1)
                self.store(key, slots, pair)
                place = self.iadd(self.cast(used, i64), self.constant(1, i64))
                self.store(place, slots, self.iadd(pair, 1))
                for j, value in enumerate(word):
                    put_f64(value, self.iadd(used, 2 + 2 * j))
                after = self.iadd(hits_at, n)
                if tokens:
                    assert listing is not None
                    first, number = tokens[0], self.isub(tokens[1], tokens[0])
                    self.store(self.cast(number, i32), words, self.iadd(used, header - 3))

                    def keep_token(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                        token = self.load(listing.positions, self.iadd(first, k))
                        put_i64(self, token, words, self.iadd(after, self.shl(self.isub(k, 1), 1)))
                        return []

                    def keep_tokens() -> list[SSAValue]:
                        token = self.load(listing.positions, first)
                        put_i64(self, token, words, self.iadd(used, header - 2))
                        self.for_range(self.constant(1, index), number, [], keep_token)
                        return [self.iadd(after, self.shl(self.isub(number, 1), 1))]

                    (after,) = self.if_else(
                        self.cmpi("ne", number, zero), keep_tokens, lambda: [after]
                    )
                self.store(self.cast(after, i64), used_cell, zero)

            self.if_then(keep, store)
            if tally is None:
                return inner
            return with_word([*inner[:2], *carried[2:]], word)

        def find(
            at: SSAValue, key: SSAValue, start: SSAValue, length: SSAValue, way: int = 0
        ) -> list[SSAValue]:
            """The arena offset of the word ``text.cps[start:][:length]`` (``token_key``
            ``key``) in the set of slots from ``at``, or -1, and the slot a missing word
            takes (``at + way`` of its first empty slot, or of its last), looking from
            ``way`` on. An exact key (negative) is the word: only a hashed one compares
            code points. The ways are unrolled: a loop's exit took ~25 instructions a way."""
            slot = self.iadd(at, way) if way else at
            pair = self.shl(slot, 1)
            place = self.load(slots, self.iadd(pair, 1))
            empty = self.cmpi("eq", place, zero64)
            same_key = self.cmpi("eq", self.load(slots, pair), key)
            candidate = self.emit(arith.AndIOp(same_key, self.negate(empty)))
            offset = self.isub(place, self.constant(1, i64))
            compare = self.emit(arith.AndIOp(candidate, self.cmpi("sge", key, zero64)))
            (found,) = self.if_else(
                compare,
                lambda: [same_word(self.cast(offset, index), start, length)],
                lambda: [candidate],
            )

            def result() -> list[SSAValue]:
                return [self.select(found, offset, self.constant(-1, i64)), slot]

            if way == WORD_CACHE_WAYS - 1:
                return result()
            done = self.emit(arith.OrIOp(found, empty))
            return self.if_else(done, result, lambda: find(at, key, start, length, way + 1))

        def ahead(start: SSAValue, end: SSAValue, packed: list[SSAValue]) -> list[SSAValue]:
            """A word's key and set of slots, two words before its turn: the set is
            fetched (prefetch) while the words before are counted."""
            key = self.token_key(*packed, text.cps, start, self.isub(end, start))
            home = self.home_slot(key, WORD_CACHE_SLOTS // WORD_CACHE_WAYS)
            at = self.cast(self.imul(home, WORD_CACHE_WAYS), index)
            self.prefetch(slots, self.shl(at, 1))
            return [key, at]

        def near(start: SSAValue, end: SSAValue, values: list[SSAValue]) -> None:
            """A word's arena entry (its first two lines: the header and the first hits),
            one word before its turn: the slot of its key (set fetched the word before;
            the first of the set, as ``find``; a hashed key's code points not compared),
            or the arena's start. Only fetched: ``find`` looks it up in its turn."""
            key, at = values
            offset = zero64
            for way in reversed(range(WORD_CACHE_WAYS)):
                pair = self.shl(self.iadd(at, way) if way else at, 1)
                place = self.load(slots, self.iadd(pair, 1))
                match = self.emit(arith.AndIOp(self.cmpi("eq", self.load(slots, pair), key),
                                               self.cmpi("ne", place, zero64)))  # fmt: skip
                offset = self.select(match, self.isub(place, self.constant(1, i64)), offset)
            offset = self.cast(offset, index)
            self.prefetch(words, offset)
            line = self.constant(16, index)  # i32 entries in a 64-byte cache line
            last = self.constant(WORD_CACHE_ROOM - 1, index)
            self.prefetch(words, self.emit(arith.MinUIOp(self.iadd(offset, line), last)))

        def word(start: SSAValue, end: SSAValue, values: list[SSAValue]) -> list[SSAValue]:
            """``[n, *carried]`` after the word ``text.cps[start:end]``, ``n`` (with a
            ``listing``) the number of tokens listed."""
            key, at, *carried = values
            n = carried.pop(0) if listing is not None else None
            length = self.isub(end, start)
            offset, slot = find(at, key, start, length)

            def found() -> list[SSAValue]:
                place = self.cast(offset, index)
                kept = self.cast(self.load(words, place), index)
                counted = cached(place, kept, carried)
                return counted if n is None else [tokens_of(place, kept, n), *counted]

            def other() -> list[SSAValue]:
                tokens = [] if n is None or listing is None else [n, listing.listed(start, end, n)]
                if tally is None:
                    return [*tokens[1:], *missed(start, end, key, slot, carried, tokens)]
                counted = missed(start, end, key, slot, flush(carried), tokens)
                return [*tokens[1:], zero, *counted]

            return self.if_else(self.cmpi("sge", offset, zero64), found, other)

        initial = carried if tally is None else [zero, *carried]
        final = self.each_word(text, initial if listing is None else [zero, *initial], word,
                               packed=True, lookahead=Lookahead(ahead, near))  # fmt: skip
        if listing is not None:
            listing.count, *final = final
        return final if tally is None else flush(final)

    def hash_terms(self: KernelEmitter, op: feature.HashTermsOp) -> TermsRow:
        """HashingVectorizer's counts: each n-gram's UTF-8 through MurmurHash3 (x86, 32 bits,
        seed 0) picks the column ``|h| mod features`` and, with ``alternate_sign``, the sign."""
        text = self.rows[op.text]
        assert isinstance(text, TextRow)
        width = op.features.value.data
        accumulator = self.accumulator(op, width)
        units = self.units_buffer(op)
        one = self.constant(1, i32)
        minus_one = self.constant(-1, i32)
        features = self.constant(width, i64)

        def hit(_: SSAValue, start: SSAValue, end: SSAValue) -> None:
            h = self.emit(arith.ExtSIOp(self.murmur3_utf8(units, start, end), i64))
            negative = self.cmpi("slt", h, self.constant(0, i64))
            magnitude = self.select(negative, self.isub(self.constant(0, i64), h), h)
            # |h| in 64 bits: for h = -2^31 scikit-learn's special case,
            # (2^31 - 1 - (features - 1)) mod features, is this same 2^31 mod features.
            column = self.emit(arith.RemSIOp(magnitude, features))
            amount = one
            if op.alternate_sign is not None:
                amount = self.select(negative, minus_one, one)
            self.accumulate(accumulator, column, amount)

        self.each_ngram(op, text, hit)
        binary = op.binary is not None
        return TermsRow([self.drain(op, accumulator, width, binary)], width)

    def murmur3_utf8(
        self: KernelEmitter, cps: SSAValue, start: SSAValue, end: SSAValue
    ) -> SSAValue:
        """MurmurHash3_x86_32 (seed 0) of the UTF-8 encoding of code points ``cps[start:end]``,
        fed a byte at a time: four bytes make a block, the rest is the tail."""
        c1, c2 = self.constant(0xCC9E2D51 - 2**32, i32), self.constant(0x1B873593, i32)
        zero = self.constant(0, i32)

        def rotl(x: SSAValue, r: int) -> SSAValue:
            return self.ior(self.shl(x, r), self.shr(x, 32 - r))

        def scramble(k: SSAValue) -> SSAValue:
            return self.imul(rotl(self.imul(k, c1), 15), c2)

        def feed(state: list[SSAValue], byte: SSAValue, active: SSAValue) -> list[SSAValue]:
            h1, k, filled, length = state
            k_new = self.ior(k, self.shl(byte, self.shl(filled, 3)))
            filled_new = self.iadd(filled, 1)
            full = self.cmpi("eq", filled_new, self.constant(4, i32))
            mixed = self.emit(arith.XOrIOp(h1, scramble(k_new)))
            mixed = self.iadd(self.imul(rotl(mixed, 13), 5), 0xE6546B64 - 2**32)
            h1 = self.select(active, self.select(full, mixed, h1), h1)
            k = self.select(active, self.select(full, zero, k_new), k)
            filled = self.select(active, self.select(full, zero, filled_new), filled)
            return [h1, k, filled, self.select(active, self.iadd(length, 1), length)]

        def each(j: SSAValue, state: list[SSAValue]) -> list[SSAValue]:
            cp = self.load(cps, j)
            two = self.cmpi("uge", cp, self.constant(0x80, i32))
            three = self.cmpi("uge", cp, self.constant(0x800, i32))
            four = self.cmpi("uge", cp, self.constant(0x10000, i32))

            def low6(shift: int) -> SSAValue:
                return self.ior(self.iand(self.shr(cp, shift), 0x3F), self.constant(0x80, i32))

            lead = self.select(
                four,
                self.ior(self.shr(cp, 18), self.constant(0xF0, i32)),
                self.select(
                    three,
                    self.ior(self.shr(cp, 12), self.constant(0xE0, i32)),
                    self.select(two, self.ior(self.shr(cp, 6), self.constant(0xC0, i32)), cp),
                ),
            )
            true = self.constant(1, i1)
            state = feed(state, lead, true)
            state = feed(state, low6(12), four)
            state = feed(state, low6(6), three)
            return feed(state, low6(0), two)

        h1, k, filled, length = self.for_range(start, end, [zero, zero, zero, zero], each)
        tail = self.emit(arith.XOrIOp(h1, scramble(k)))
        h1 = self.select(self.cmpi("ne", filled, zero), tail, h1)
        h = self.emit(arith.XOrIOp(h1, length))
        for shift, factor in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
            h = self.imul(self.emit(arith.XOrIOp(h, self.shr(h, shift))), factor - 2**32)
        return self.emit(arith.XOrIOp(h, self.shr(h, 16)))

    def weight_terms(self: KernelEmitter, op: feature.WeightTermsOp) -> TermsRow | PendingWeights:
        pending = self.rows.get(op.input)
        if isinstance(pending, PendingWeights):  # weighed by its sparse_linear reader
            assert pending.op is op
            return pending
        row = self.terms_of(op.input)  # one segment, or several from an hstack
        width = batch_width(op.result.type)
        single = op.result.type.get_element_type() == f32  # type: ignore[attr-defined]

        def rounded(x: SSAValue) -> SSAValue:
            """``x`` rounded to the op's precision (float32 arithmetic as numpy does it)."""
            if not single:
                return x
            return self.emit(arith.ExtFOp(self.emit(arith.TruncFOp(x, f32)), f64))

        norm = op.norm.data
        false = self.constant(0, i1)
        python = None  # with a log table: a count outside it sends the row to Python
        if op.log_table is not None:
            python = self.scratch(self.scratch_name(op, "python"), i8, ScratchSize(1))
            self.store(self.constant(0, i8), python, self.constant(0, index))

        def weigh(
            k: SSAValue, carried: list[SSAValue], segment: Segment, weighted: SSAValue
        ) -> list[SSAValue]:
            total, *flags = carried
            value = rounded(self.load(segment.values, k))
            if not segment.finite:  # the transformer's input
                flags = self.nonfinite(value, flags[:2]) + flags[2:]
            if op.sublinear_tf is not None:
                value = rounded(self.add(self.log(op, value, python), self.constant(1.0, f64)))
            if op.idf is not None:
                column = self.cast(self.load(segment.ids, k), index)
                if segment.offset:
                    column = self.iadd(column, segment.offset)
                idf = self.load(self.blob(op.idf), column)
                if single:
                    idf = self.emit(arith.ExtFOp(idf, f64))
                value = rounded(self.emit(arith.MulfOp(value, idf)))
            self.store(value, weighted, k)
            if norm == "none":
                return [total, *flags]
            flags = flags[:2] + self.nonfinite(value, flags[2:])  # what normalize checks
            if norm == "l2":
                return [self.add(total, rounded(self.emit(arith.MulfOp(value, value)))), *flags]
            return [self.add(total, self.emit(math.AbsFOp(value))), *flags]

        zero = self.constant(0.0, f64)
        carried = [zero] + [false] * 4
        segments = []
        for number, segment in enumerate(row.segments):  # in column order, as scipy sums
            name = self.scratch_name(op, f"values{number or ''}")
            weighted = self.scratch(name, f64, ScratchSize(width))
            carried = self.for_range(
                self.constant(0, index),
                segment.count,
                carried,
                lambda k, c, segment=segment, weighted=weighted: weigh(k, c, segment, weighted),
            )
            # normalising checks every weighted value (divided by the norm they stay finite);
            # unweighted counts are finite
            checked = norm != "none" or (
                segment.finite and op.idf is None and op.sublinear_tf is None
            )
            segments.append(Segment(segment.ids, weighted, segment.count, segment.offset, checked))
        total, *flags = carried
        self.report_nonfinite(op, flags[:2])
        self.report_nonfinite(op, flags[2:])
        if python is not None:
            flagged = self.load(python, self.constant(0, index))
            self.hand_back(self.cmpi("ne", flagged, self.constant(0, i8)), "term-count")
        if norm != "none":
            if norm == "l2":
                total = self.emit(math.SqrtOp(total))
            # scikit-learn leaves a row of zeros as it is.
            total = self.select(self.cmpf("oeq", total, zero), self.constant(1.0, f64), total)

            for segment in segments:

                def divide(k: SSAValue, _: list[SSAValue], weighted: SSAValue = segment.values):
                    value = self.emit(arith.DivfOp(self.load(weighted, k), total))
                    self.store(rounded(value), weighted, k)
                    return []

                self.for_range(self.constant(0, index), segment.count, [], divide)
        return TermsRow(segments, width)

    def log(
        self: KernelEmitter, op: feature.WeightTermsOp, x: SSAValue, python: SSAValue | None
    ) -> SSAValue:
        """``log(x)``, from the op's table of numpy float32 logs when it has one (a count
        outside the table flags the row to run in Python)."""
        if op.log_table is None or python is None:
            return self.emit(math.LogOp(x))
        size = op.log_table.size
        whole = self.cmpf("oeq", self.emit(math.FloorOp(x)), x)
        inside = self.emit(
            arith.AndIOp(
                self.cmpf("oge", x, self.constant(0.0, f64)),
                self.cmpf("olt", x, self.constant(float(size), f64)),
            )
        )
        listed = self.emit(arith.AndIOp(whole, inside))
        at = self.select(listed, self.emit(arith.FPToSIOp(x, i64)), self.constant(0, i64))
        logged = self.emit(
            arith.ExtFOp(self.load(self.blob(op.log_table), self.cast(at, index)), f64)
        )
        missed = self.emit(arith.ExtUIOp(self.negate(listed), i8))
        at0 = self.constant(0, index)
        self.store(self.ior(self.load(python, at0), missed), python, at0)
        return self.select(listed, logged, self.emit(math.LogOp(x)))

    def nonfinite(self: KernelEmitter, x: SSAValue, flags: list[SSAValue]) -> list[SSAValue]:
        """``flags`` (NaN seen, infinity seen) updated with ``x``."""
        infinite = self.cmpf("oeq", self.emit(math.AbsFOp(x)), self.constant(float("inf"), f64))
        return [self.ior(flags[0], self.cmpf("uno", x, x)), self.ior(flags[1], infinite)]

    def report_nonfinite(self: KernelEmitter, op: object, flags: list[SSAValue]) -> None:
        """scikit-learn's input validation: NaN, then infinity, stops the batch."""
        site = self.lowering.error_site(op)
        self.report_error(flags[0], ErrorKind.NAN, site)
        self.report_error(flags[1], ErrorKind.INFINITE, site)

    def sparse_linear(self: KernelEmitter, op: feature.SparseLinearOp) -> list[SSAValue]:
        """The decision values; a NaN or infinite term value stops the batch, as the linear
        model's input validation does (only values not known finite are checked: term
        counts and normalised weights are)."""
        outputs, features = op.coef.shape
        coef = self.blob(op.coef)
        accumulators = [self.constant(0.0, f64)] * outputs
        flags = [self.constant(0, i1)] * 2
        offsets = self.linear_offsets(op)
        rows = []
        for value, column_offset in zip(op.inputs, offsets, strict=False):
            pending = self.rows.get(value)
            if isinstance(pending, PendingWeights):  # first: its weights' checks come first
                accumulators = self.weigh_and_dot(pending, op, column_offset, accumulators)
            else:
                rows.append((self.terms_of(value), column_offset))
        for row, column_offset in rows:
            for segment in row.segments:
                base = column_offset + segment.offset

                def dot(
                    k: SSAValue, carried: list[SSAValue], segment: Segment = segment,
                    base: int = base,
                ) -> list[SSAValue]:  # fmt: skip
                    *acc, nan, infinite = carried
                    x = self.load(segment.values, k)
                    column = self.iadd(self.cast(self.load(segment.ids, k), index), base)
                    sums = [
                        self.add(
                            a,
                            self.emit(
                                arith.MulfOp(x, self.load(coef, self.iadd(column, j * features)))
                            ),
                        )
                        for j, a in enumerate(acc)
                    ]
                    if segment.finite:
                        return [*sums, nan, infinite]
                    return sums + self.nonfinite(x, [nan, infinite])

                *accumulators, nan, infinite = self.for_range(
                    self.constant(0, index), segment.count, accumulators + flags, dot
                )
                flags = [nan, infinite]
        self.report_nonfinite(op, flags)
        if op.intercept is not None:
            accumulators = [
                self.add(a, self.blob_value(op.intercept, j)) for j, a in enumerate(accumulators)
            ]
        return accumulators

    def linear_offsets(self: KernelEmitter, op: feature.SparseLinearOp) -> list[int]:
        """The column of ``op.coef`` at which each of ``op.inputs`` starts."""
        offsets = [op.offset.value.data]
        for value in op.inputs:
            offsets.append(offsets[-1] + batch_width(value.type))
        return offsets[:-1]

    def weigh_and_dot(
        self: KernelEmitter,
        pending: PendingWeights,
        op: feature.SparseLinearOp,
        column_offset: int,
        accumulators: list[SSAValue],
    ) -> list[SSAValue]:
        """``accumulators`` plus the decision values of ``pending``'s weights, columns from
        ``column_offset`` of ``op.coef``, in one pass over the counted terms in column order
        (``each_counted``, which zeroes the counts): the sum of each weight times its
        coefficient, divided by the row's norm once (scikit-learn divides each weight first:
        the results differ by rounding only, a few ulp, and do not depend on earlier rows or
        calls). The weights are checked as ``weight_terms`` checks them (NaN or infinity
        stops the batch: at the ``weight_terms`` op when it normalises, else at ``op``, as
        the model's input)."""
        if pending.decision is not None:  # tallied by count_terms
            return [self.add(a, s) for a, s in zip(accumulators, pending.decision, strict=True)]
        weigh = pending.op
        outputs, features = op.coef.shape
        coef = self.blob(op.coef)
        idf = self.blob(weigh.idf) if weigh.idf is not None else None
        norm = weigh.norm.data
        checked = idf is not None  # counts and 1 + log(count) are finite
        false = self.constant(0, i1)

        def term(column: SSAValue, count: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            total, nan, infinite, *sums = carried
            value = (
                self.constant(1.0, f64) if pending.binary
                else self.emit(arith.SIToFPOp(count, f64))
            )  # fmt: skip
            if weigh.sublinear_tf is not None:
                value = self.add(self.emit(math.LogOp(value)), self.constant(1.0, f64))
            if idf is not None:
                value = self.emit(arith.MulfOp(value, self.load(idf, column)))
            if checked:
                nan, infinite = self.nonfinite(value, [nan, infinite])
            if norm == "l2":
                total = self.add(total, self.emit(arith.MulfOp(value, value)))
            elif norm == "l1":
                total = self.add(total, self.emit(math.AbsFOp(value)))
            at = self.iadd(column, column_offset)
            sums = [
                self.add(
                    s, self.emit(arith.MulfOp(value, self.load(coef, self.iadd(at, j * features))))
                )
                for j, s in enumerate(sums)
            ]
            return [total, nan, infinite, *sums]

        width = batch_width(weigh.result.type)
        initial = [self.constant(0.0, f64), false, false] + [self.constant(0.0, f64)] * outputs
        total, nan, infinite, *sums = self.each_counted(pending.accumulator, width, initial, term)
        self.report_nonfinite(weigh if norm != "none" else op, [nan, infinite])
        if norm != "none":
            if norm == "l2":
                total = self.emit(math.SqrtOp(total))
            zero = self.constant(0.0, f64)  # scikit-learn leaves a row of zeros as it is
            total = self.select(self.cmpf("oeq", total, zero), self.constant(1.0, f64), total)
            sums = [self.emit(arith.DivfOp(s, total)) for s in sums]
        return [self.add(a, s) for a, s in zip(accumulators, sums, strict=True)]

    def store_terms(
        self: KernelEmitter,
        row: TermsRow,
        element: Attribute,
        indptr: SSAValue,
        indices: SSAValue,
        data: SSAValue,
        capacity: SSAValue,
    ) -> None:
        """Append the row to a CSR matrix: ``indptr[i + 1]`` always, the entries only while
        they fit in ``capacity[0]`` (the runtime then reruns with ``indptr[n]`` entries)."""
        start = self.load(indptr, self.state.row)
        total = start
        for segment in row.segments:
            total = self.iadd(total, self.cast(segment.count, i64))
        self.store(total, indptr, self.iadd(self.state.row, 1))
        fits = self.cmpi("sle", total, self.load(capacity, 0))

        def write() -> list[SSAValue]:
            at = self.cast(start, index)
            for segment in row.segments:

                def entry(k: SSAValue, position: list[SSAValue], segment: Segment = segment):
                    column = self.load(segment.ids, k)
                    if segment.offset:
                        column = self.iadd(column, segment.offset)
                    self.store(column, indices, position[0])
                    value = self.load(segment.values, k)
                    if element == f32:
                        value = self.emit(arith.TruncFOp(value, f32))
                    elif element == i64:
                        value = self.emit(arith.FPToSIOp(value, i64))
                    self.store(value, data, position[0])
                    return [self.iadd(position[0], 1)]

                (at,) = self.for_range(self.constant(0, index), segment.count, [at], entry)
            return []

        self.if_else(fits, write)

    def terms_of(self: KernelEmitter, value: SSAValue) -> TermsRow:
        """The term row of sparse ``value``; a CSR matrix made outside the kernel (by a
        Python call) is read from its ``indptr``/``indices``/``data`` buffers."""
        if value not in self.rows:
            self.rows[value] = self.csr_input_row(value)
        row = self.rows[value]
        assert isinstance(row, TermsRow)
        return row

    def csr_input_row(self: KernelEmitter, value: SSAValue) -> TermsRow:
        """Copy the row's entries of an input CSR matrix into a segment (f64 values)."""
        width = batch_width(value.type)
        element = value.type.get_element_type()  # type: ignore[attr-defined]
        indptr = self.input(value, "", "indptr", i64)
        indices = self.input(value, "", "indices", i64)
        data = self.input(value, "", "data", element)
        name = f"{self.state.name}.{self.lowering.value_name(value)}"
        ids = self.scratch(f"{name}.ids", i32, ScratchSize(width))
        values = self.scratch(f"{name}.values", f64, ScratchSize(width))
        start = self.cast(self.load(indptr, self.state.row), index)
        end = self.cast(self.load(indptr, self.iadd(self.state.row, 1)), index)

        def copy(k: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            at = self.iadd(start, k)
            self.store(self.cast(self.load(indices, at), i32), ids, k)
            x = self.load(data, at)
            if element == f32:
                x = self.emit(arith.ExtFOp(x, f64))
            elif element == i64:
                x = self.emit(arith.SIToFPOp(x, f64))
            self.store(x, values, k)
            return []

        count = self.isub(end, start)
        self.for_range(self.constant(0, index), count, [], copy)
        return TermsRow([Segment(ids, values, count, 0)], width)

    def dense_terms(self: KernelEmitter, value: SSAValue) -> TermsRow:
        """Dense ``value``'s row as a term row of its nonzero entries, as scipy's
        ``csr_matrix`` of a dense array stores them (NaN too; 0.0 and -0.0 not): each entry
        is written at the next free slot, which moves on only past a nonzero one."""
        row = [self.convert(x, f64) for x in self.row_of(value)]
        name = f"{self.state.name}.{self.lowering.value_name(value)}.dense"
        ids = self.scratch(f"{name}.ids", i32, ScratchSize(len(row)))
        values = self.scratch(f"{name}.values", f64, ScratchSize(len(row)))
        zero, one, none = self.constant(0.0, f64), self.constant(1, index), self.constant(0, index)
        count = none
        for column, x in enumerate(row):
            self.store(self.constant(column, i32), ids, count)
            self.store(x, values, count)
            count = self.iadd(count, self.select(self.cmpf("une", x, zero), one, none))
        return TermsRow([Segment(ids, values, count, 0)], len(row))

    def hstack_terms(self: KernelEmitter, parts: list[TermsRow]) -> TermsRow:
        segments: list[Segment] = []
        offset = 0
        for part in parts:
            segments.extend(
                Segment(s.ids, s.values, s.count, s.offset + offset, s.finite)
                for s in part.segments
            )
            offset += part.width
        return TermsRow(segments, offset)

    # endregion
