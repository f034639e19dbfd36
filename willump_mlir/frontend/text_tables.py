"""Tables the native text kernels read: code-point preprocessing, character classes, terms.

A scikit-learn vectorizer preprocesses a document as ``strip(doc.lower())`` (``_preprocess``),
where ``strip`` is ``strip_accents_ascii`` (NFKD, then drop every non-ASCII code point) or
``strip_accents_unicode`` (an ASCII document unchanged, else NFKD, then drop every code point
with ``unicodedata.combining(c) != 0``). ``char_map`` tabulates ``mapped(c) = strip(lower(c))``
per code point, and joining ``mapped`` over a document gives the whole-document result:

- ``str.lower`` maps each code point on its own (full case mapping, no locale), except capital
  sigma U+03A3, whose lowercase depends on its neighbours (final sigma); it is ``MAP_PYTHON``.
  U+0130 lowers to two code points, which the table stores as a sequence.
- NFKD of a string is the join of each code point's decomposition followed by canonical
  reordering, a stable sort of each run of code points with nonzero combining class. Only those
  move, and both strips drop all of them (ASCII has combining class 0), so the order of the code
  points kept is the order of the per-code-point results.
- The ASCII shortcut of ``strip_accents_unicode`` agrees: an ASCII code point is its own NFKD.

Surrogates U+D800..U+DFFF never come from UTF-8 text and are always ``MAP_PYTHON``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.feature_extraction.text import strip_accents_ascii, strip_accents_unicode

from willump_mlir.abi import (
    EXACT_KEY,
    EXACT_KEY4,
    FNV_OFFSET,
    FNV_PRIME,
    GOLDEN,
    HASHED_KEY_MASK,
    KEY_BITS,
)

MAP_PYTHON = -1
CLASS_WORD = 1
CLASS_SPACE = 2

CODE_POINTS = 0x110000
BLOCK = 256
SIGMA = 0x03A3
SURROGATES = slice(0xD800, 0xE000)

_STRIPS: dict[str | None, Callable[[str], str] | None] = {
    None: None,
    "ascii": strip_accents_ascii,
    "unicode": strip_accents_unicode,
}


@dataclass(frozen=True)
class CharMap:
    """``mapped(cp)`` for every code point as a two-level table (see ``char_map``)."""

    index: np.ndarray  # int32[0x1100]: block number of each 256-code-point block
    blocks: np.ndarray  # int32[nblocks * 256]: cp's is blocks[index[cp >> 8] * 256 + cp % 256]
    sequences: np.ndarray  # int32: count-prefixed code point sequences, the empty one at 0
    max_expansion: int  # max over cp of ceil(len(mapped) / UTF-8 length of cp), at least 1


@dataclass(frozen=True)
class TermTable:
    """Terms as code points plus an open-addressing hash table of them (see ``term_table``)."""

    codepoints: np.ndarray  # int32: the code points of all terms concatenated
    offsets: np.ndarray  # int64[n + 1], in code points
    table: np.ndarray  # int64[2 * size]: (term_key as int64, term index) per slot
    probes: int  # the most slots any term needs, at least 1


@lru_cache(maxsize=1)
def all_code_points() -> str:
    """The string of every code point U+0000..U+10FFFF in order, surrogates included."""
    codes = np.arange(CODE_POINTS, dtype="<u4")
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _utf8_length(cp: int) -> int:
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


@lru_cache(maxsize=1)
def _mark_probe() -> str:
    """Each code point ``c`` as U+0345 ``c`` U+0334 (combining classes 240, c's, 1)."""
    codes = np.empty((CODE_POINTS, 3), dtype="<u4")
    codes[:, 0] = 0x0345
    codes[:, 1] = np.arange(CODE_POINTS)
    codes[:, 2] = 0x0334
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


def _has_marks(start: int) -> bool:
    """Whether a block of code points, each its own NFKD, has one of nonzero combining class.

    Canonical reordering changes U+0345 ``c`` U+0334 exactly when ``c`` has one; between
    starters it leaves the ordered pair U+0334 U+0345 alone.
    """
    probe = _mark_probe()[3 * start : 3 * (start + BLOCK)]
    return unicodedata.normalize("NFKD", probe) != probe


class _Builder:
    """Fills the flat entry array of one ``char_map`` configuration."""

    def __init__(
        self, lowercase: bool, strip_accents: str | None, uppercase: bool = False,
        arrow: bool | None = False,
    ):  # fmt: skip
        if strip_accents not in _STRIPS:
            raise ValueError(f"strip_accents must be None, 'ascii' or 'unicode': {strip_accents!r}")
        self.lowercase = lowercase
        self.uppercase = uppercase
        self.arrow = arrow
        self.strip_name = strip_accents
        self.strip = _STRIPS[strip_accents]
        self.entries = np.zeros(CODE_POINTS, dtype=np.int32)
        self.sequences: dict[str, int] = {}
        self.data: list[int] = []
        self.expansion = 1
        self.sequence("")

    def sequence(self, mapped: str) -> int:
        """The (odd) entry of a sequence, added on first use."""
        entry = self.sequences.get(mapped)
        if entry is None:
            entry = 2 * len(self.data) + 1
            self.sequences[mapped] = entry
            self.data.append(len(mapped))
            self.data.extend(map(ord, mapped))
        return entry

    def fixed(self, chars: str) -> bool:
        """Whether each of ``chars`` is its own lowercase and its own NFKD (as applied).

        Neither step maps a code point to nothing, so equal lengths mean one code point each;
        for NFKD the result is then a permutation of ``chars``, and NFKD is idempotent.
        """
        if (self.lowercase or self.uppercase) and self.case(chars) != chars:
            return False
        return self.strip is None or unicodedata.normalize("NFKD", chars) == chars

    def case(self, text: str) -> str:
        """``text`` lowercased or uppercased: by Python, or per code point by pyarrow."""
        if self.arrow:
            function = pc.utf8_lower if self.lowercase else pc.utf8_upper
            return function(pa.array([text], pa.large_string()))[0].as_py()
        return text.lower() if self.lowercase else text.upper()

    def fill_fixed(self, start: int, chars: str) -> None:
        """Entries of a block of code points that are their own lowercase and NFKD."""
        if self.strip_name == "ascii":
            self.entries[max(start, 0x80) : start + BLOCK] = self.sequence("")
        elif self.strip_name == "unicode" and _has_marks(start):
            for cp, ch in enumerate(chars, start):
                if unicodedata.combining(ch):
                    self.entries[cp] = self.sequence("")

    def preprocess(self, text: str) -> str:
        """``text`` through sklearn's steps."""
        if self.lowercase or self.uppercase:
            text = self.case(text)
        return text if self.strip is None else self.strip(text)

    def fill_each(self, start: int, chars: str) -> None:
        """Entries of a block by applying sklearn's steps to its code points.

        Past the first block they go through joined by U+0000, which maps to itself, is a
        starter and comes out of no step, so the parts between them are the results.
        """
        if start == 0:
            parts = [self.preprocess(ch) for ch in chars]
        else:
            parts = self.preprocess("\0".join(chars)).split("\0")
        if len(parts) != BLOCK:
            raise AssertionError("a preprocessing step produced U+0000")
        for cp, mapped in enumerate(parts, start):
            if len(mapped) == 1:
                self.entries[cp] = 2 * (ord(mapped) - cp)
            else:
                self.entries[cp] = self.sequence(mapped)
                self.expansion = max(self.expansion, -(-len(mapped) // _utf8_length(cp)))

    def build(self) -> CharMap:
        text = all_code_points()
        for start in range(0, CODE_POINTS, BLOCK):
            chars = text[start : start + BLOCK]
            if SURROGATES.start <= start < SURROGATES.stop:
                continue  # never in UTF-8 text: MAP_PYTHON below
            if self.fixed(chars):
                self.fill_fixed(start, chars)
            else:
                self.fill_each(start, chars)
        self.entries[SURROGATES] = MAP_PYTHON
        if self.lowercase and not self.arrow:
            self.entries[SIGMA] = MAP_PYTHON
        if self.arrow is None:  # either dtype at run time: where they differ, Python decides
            self.entries[_case_differences(self.lowercase)] = MAP_PYTHON
        rows = self.entries.reshape(-1, BLOCK)
        numbers: dict[bytes, int] = {}
        index = np.array(
            [numbers.setdefault(row.tobytes(), len(numbers)) for row in rows], dtype=np.int32
        )
        blocks = np.frombuffer(b"".join(numbers), dtype=np.int32).copy()
        return CharMap(
            index=_readonly(index),
            blocks=_readonly(blocks),
            sequences=_readonly(np.array(self.data, dtype=np.int32)),
            max_expansion=self.expansion,
        )


def _case_differences(lowercase: bool) -> np.ndarray:
    """The code points (not surrogates) whose Python lowercase (``lowercase``) or uppercase
    differs from pyarrow's ``utf8_lower``/``utf8_upper``."""
    points = np.r_[0 : SURROGATES.start, SURROGATES.stop : CODE_POINTS]
    chars = [chr(cp) for cp in points]
    function = pc.utf8_lower if lowercase else pc.utf8_upper
    arrow = function(pa.array(chars, pa.large_string())).to_pylist()
    python = [ch.lower() if lowercase else ch.upper() for ch in chars]
    return points[[a != b for a, b in zip(arrow, python, strict=True)]]


@cache
def char_map(
    lowercase: bool, strip_accents: str | None, uppercase: bool = False,
    arrow: bool | None = False,
) -> CharMap:  # fmt: skip
    """The table of ``mapped(cp) = strip(lower(chr(cp)))`` as sklearn's ``_preprocess`` does it
    (with ``uppercase``, of ``chr(cp).upper()``: ``Series.str.upper``, which has no context;
    with ``arrow``, of pyarrow's ``utf8_lower``/``utf8_upper``, which pandas' pyarrow-backed
    ``str`` dtype uses: one code point to one, no context, so no final sigma; with ``arrow``
    None, Python's, and code points the two map differently are ``MAP_PYTHON``: a column of
    either dtype at run time).

    Entries are relative to ``cp``, so blocks that map alike are stored once. An entry ``e``:

    - even: ``cp`` maps to the single code point ``cp + (e >> 1)`` (arithmetic shift; 0 is
      the identity);
    - ``MAP_PYTHON`` (-1): a row with ``cp`` must run in Python;
    - odd and ``>= 1``: ``cp`` maps to the sequence ``sequences[o + 1 : o + 1 + sequences[o]]``
      with ``o = e >> 1``; ``o == 0`` is the empty sequence, so a dropped code point has 1.

    ``strip_accents`` is None, ``"ascii"`` or ``"unicode"``. The arrays are read-only.
    """
    return _Builder(lowercase, strip_accents, uppercase, arrow).build()


def _matching(pattern: str) -> np.ndarray:
    """Which code points the one-character ``re`` class ``pattern`` matches, as bools."""
    hits = np.zeros(CODE_POINTS, dtype=bool)
    for run in re.finditer(f"{pattern}+", all_code_points()):
        hits[run.start() : run.end()] = True
    return hits


@lru_cache(maxsize=1)
def char_classes() -> np.ndarray:
    """uint8[0x110000]: ``CLASS_WORD`` where ``re``'s ``\\w`` (str patterns) matches the code
    point, ``CLASS_SPACE`` where ``str.isspace()`` holds (the same set as ``re``'s ``\\s``)."""
    classes = _matching(r"\w").astype(np.uint8) * np.uint8(CLASS_WORD)
    classes |= _matching(r"\s").astype(np.uint8) * np.uint8(CLASS_SPACE)
    return _readonly(classes)


def fnv1a64_codepoints(term: str) -> int:
    """FNV-1a 64 over the code points of ``term`` (unsigned): what term tables hash."""
    h = FNV_OFFSET
    for ch in term:
        h = ((h ^ ord(ch)) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def term_key(term: str) -> int:
    """A term's 64-bit key (unsigned). A short term is its own key: up to three code points
    below 2^20 - 1, or four below 2^15 - 1, each plus one, packed ``KEY_BITS`` apiece under
    the tag ``EXACT_KEY`` / ``EXACT_KEY4``, so equal keys mean equal terms. Any other term's
    key is ``fnv1a64_codepoints`` with bits 62 and 63 clear."""
    points = [ord(ch) + 1 for ch in term]
    for tag, bits, longest in ((EXACT_KEY, KEY_BITS[0], 3), (EXACT_KEY4, KEY_BITS[1], 4)):
        fits = len(points) <= longest if tag == EXACT_KEY else len(points) == longest
        if fits and all(p < (1 << bits) for p in points):
            return tag | sum(p << (bits * k) for k, p in enumerate(points))
    return fnv1a64_codepoints(term) & HASHED_KEY_MASK


#: the most code points (each below 256) of a token whose ``token_key`` holds them
TOKEN_BYTES = 7
#: the bit of a ``token_key`` from which its number of code points is stored
TOKEN_LENGTH_SHIFT = 56


def token_key(token: str) -> int:
    """A token's 64-bit key (unsigned) in the word analyzer's table of tokens
    (``word_index``): a token of one to ``TOKEN_BYTES`` code points, each below 256, is its
    own key, the code points a byte apiece (the last lowest) under the sign bit and its
    length (from bit ``TOKEN_LENGTH_SHIFT``); so is a token of eight such code points whose
    first is from 8 to 127 (``is_long_exact``), the eight bytes under the sign bit (its first
    code point, above 7, stands where a shorter token's length does). Equal keys mean equal
    tokens. Any other token's key is ``fnv1a64_codepoints`` with bits 62 and 63 clear. The
    kernel packs the bytes as it scans a token."""
    points = [ord(ch) for ch in token]
    packed = 0
    for point in points[-8:]:
        packed = (packed << 8) | point
    if 1 <= len(points) <= TOKEN_BYTES and max(points) < 256:
        return (1 << 63) | (len(points) << TOKEN_LENGTH_SHIFT) | packed
    if len(points) == TOKEN_BYTES + 1 and max(points) < 256 and 8 <= points[0] < 128:
        return (1 << 63) | packed
    return fnv1a64_codepoints(token) & HASHED_KEY_MASK


def _token_keys(codepoints: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``token_key`` of every term at once (uint64)."""
    lengths = np.diff(offsets)
    keys = _hashes(codepoints, offsets) & np.uint64(HASHED_KEY_MASK)
    starts = offsets[:-1]
    short = (lengths >= 1) & (lengths <= TOKEN_BYTES)
    eight = lengths == TOKEN_BYTES + 1
    packed = np.zeros(len(lengths), dtype=np.uint64)
    for k in range(TOKEN_BYTES + 1):
        has = lengths > k
        points = np.zeros(len(lengths), dtype=np.uint64)
        points[has] = codepoints[starts[has] + k].astype(np.uint64)
        short &= points < np.uint64(256)
        eight &= points < np.uint64(256)
        if not k:
            eight &= (points >= np.uint64(8)) & (points < np.uint64(128))
        packed = np.where(has, (packed << np.uint64(8)) | points, packed)
    tags = np.uint64(1 << 63) | (lengths.astype(np.uint64) << np.uint64(TOKEN_LENGTH_SHIFT))
    keys[short] = (packed | tags)[short]
    keys[eight] = (packed | np.uint64(1 << 63))[eight]
    return keys


def home_slot(key: int, size: int) -> int:
    """The first slot a key probes in a table of ``size`` (a power of two) slots."""
    bits = size.bit_length() - 1
    return ((key * GOLDEN) & 0xFFFFFFFFFFFFFFFF) >> (64 - bits) if bits else 0


def _keys(codepoints: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``term_key`` of every term at once (uint64)."""
    lengths = np.diff(offsets)
    keys = _hashes(codepoints, offsets) & np.uint64(HASHED_KEY_MASK)
    starts = offsets[:-1]
    for tag, bits, fits in (
        (EXACT_KEY, KEY_BITS[0], lengths <= 3),
        (EXACT_KEY4, KEY_BITS[1], lengths == 4),
    ):
        packed = np.full(len(lengths), tag, dtype=np.uint64)
        for k in range(4 if tag == EXACT_KEY4 else 3):
            has = lengths > k
            points = np.zeros(len(lengths), dtype=np.uint64)
            points[has] = codepoints[starts[has] + k].astype(np.uint64) + np.uint64(1)
            fits &= points < np.uint64(1 << bits)
            packed |= points << np.uint64(bits * k)
        keys[fits] = packed[fits]
    return keys


def _hashes(codepoints: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``fnv1a64_codepoints`` of every term at once (uint64, which wraps mod 2**64).

    With the terms longest first, the terms longer than ``k`` are a prefix, and one step
    folds in code point ``k`` of all of them.
    """
    lengths = np.diff(offsets)
    order = np.argsort(-lengths, kind="stable")
    starts = offsets[:-1][order]
    longer = np.searchsorted(-lengths[order], -np.arange(lengths.max(initial=0)), side="left")
    points = codepoints.astype(np.uint64)
    prime = np.uint64(FNV_PRIME)
    sorted_hashes = np.full(len(order), FNV_OFFSET, dtype=np.uint64)
    for k, count in enumerate(longer.tolist()):
        active = sorted_hashes[:count]
        active ^= points[starts[:count] + k]
        active *= prime
    hashes = np.empty_like(sorted_hashes)
    hashes[order] = sorted_hashes
    return hashes


def term_table(terms: Sequence[str], tokens: bool = False) -> TermTable:
    """An open-addressing table that finds the index of each of the (distinct) ``terms``
    (keyed by ``term_key``, or with ``tokens`` by ``token_key``).

    ``size`` is the smallest power of two ``>= 2 * len(terms)`` (at least 1). Slot ``k`` is
    ``table[2k : 2k + 2] = (key, index)`` with ``key`` the ``term_key`` of the term as a signed
    int64 (the same 64 bits); empty slots hold ``(-1, -1)``. A term's home slot is
    ``home_slot(key, size)``, and every slot from its home to its own (mod ``size``) is taken,
    so a lookup probes ``home``, ``home + 1``, ... and has no match once it meets an empty slot
    or has probed ``probes`` slots. A lookup compares the code points only for a hashed key:
    an exact key (negative as int64) is the term.
    """
    if len(set(terms)) != len(terms):
        raise ValueError("term_table needs distinct terms")
    # Lone surrogates pass through as code points no valid UTF-8 input decodes to.
    text = "".join(terms).encode("utf-32-le", "surrogatepass")
    codepoints = np.frombuffer(text, dtype="<u4").astype(np.int32)
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, terms), np.int64, len(terms)), out=offsets[1:])
    table, probes = key_table((_token_keys if tokens else _keys)(codepoints, offsets))
    return TermTable(codepoints=codepoints, offsets=offsets, table=table, probes=probes)


def renumbered(table: TermTable, order: np.ndarray) -> TermTable:
    """``table`` with its terms renumbered: term ``k`` is the old term ``order[k]`` (a
    permutation). The slots stay where they are (a term's key does not change), their
    indices renamed; the code points and offsets follow the new order."""
    new = np.empty_like(order)
    new[order] = np.arange(len(order))
    slots = table.table.copy()
    indices = slots[1::2]
    used = indices >= 0
    indices[used] = new[indices[used]]
    codepoints, offsets = reordered(table.codepoints, table.offsets, order)
    return TermTable(codepoints=codepoints, offsets=offsets, table=slots, probes=table.probes)


def reordered(
    codepoints: np.ndarray, offsets: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Terms as code points and offsets (``term_table``'s) in a new order: term ``k`` is the
    old term ``order[k]`` (a permutation)."""
    lengths = np.diff(offsets)[order]
    new_offsets = np.zeros_like(offsets)
    np.cumsum(lengths, out=new_offsets[1:])
    shift = np.repeat(offsets[:-1][order] - new_offsets[:-1], lengths)
    return codepoints[np.arange(new_offsets[-1]) + shift], new_offsets


def key_table(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """An open-addressing table of the distinct uint64 ``keys`` and the most slots a lookup
    probes: slot ``k`` is ``table[2k : 2k + 2] = (key as int64, index of the key)``, empty
    ``(-1, -1)``; ``size`` is the smallest power of two ``>= 2 * len(keys)``, and a key's home
    is ``home_slot(key, size)`` (see ``term_table``)."""
    size = 1
    while size < 2 * len(keys):
        size *= 2
    mask = size - 1
    bits = size.bit_length() - 1
    if bits:
        homes = ((keys * np.uint64(GOLDEN)) >> np.uint64(64 - bits)).astype(np.int64)
    else:
        homes = np.zeros(len(keys), dtype=np.int64)
    owners = np.full(size, -1, dtype=np.int64)
    # The first key with each home takes it; the rest probe on from theirs in index order.
    _, first = np.unique(homes, return_index=True)
    owners[homes[first]] = first
    placed = np.zeros(len(keys), dtype=bool)
    placed[first] = True
    probes = 1
    for index in (~placed).nonzero()[0].tolist():
        home = int(homes[index])
        step = 1
        while owners[(home + step) & mask] >= 0:
            step += 1
        owners[(home + step) & mask] = index
        probes = max(probes, step + 1)
    table = np.full(2 * size, -1, dtype=np.int64)
    used = owners >= 0
    table[0::2][used] = keys.view(np.int64)[owners[used]]
    table[1::2] = owners
    return table, probes


@dataclass(frozen=True)
class WordIndex:
    """A word vocabulary as a trie over its tokens (``word_index``)."""

    tokens: TermTable  # the distinct tokens of the terms, each found by its code points
    token_ids: np.ndarray  # int32 per token: the id of the one-token sequence
    #: the (id, token) pairs to the id after: with ``edge_bits`` 0, a ``key_table`` of their
    #: ``edge_key``s whose slots hold the id after; else one int64 a slot (half the size:
    #: the table is the largest the word analyzer reads), ``compact_edge_key << 32 | id``,
    #: empty -1, at the ``home_slot`` of the compact key
    edges: np.ndarray
    edge_probes: int
    edge_bits: int
    #: ``tokens.table`` with each token's index joined by ``TOKEN_STARTS`` when its
    #: one-token sequence has an edge, ``TOKEN_FOLLOWS`` when it extends some sequence, and
    #: its ``token_ids`` entry shifted by ``TOKEN_ID_SHIFT``: one probe gives all
    token_slots: np.ndarray


#: Flags of a token in ``WordIndex.token_slots`` (below them its index), and the shift of
#: its id there.
TOKEN_STARTS = 1 << 30
TOKEN_FOLLOWS = 1 << 31
TOKEN_ID_SHIFT = 32

#: An edge key: the sign bit (so it reads as exact, never compared as code points), the id
#: of a sequence shifted by ``EDGE_SHIFT``, and the token that extends it.
EDGE_SHIFT = 31


def edge_key(sequence: int, token: int) -> int:
    return (1 << 63) | (sequence << EDGE_SHIFT) | token


def compact_edge_key(sequence: int, token: int, bits: int) -> int:
    """An edge's key in a compact table (``WordIndex.edge_bits`` ``bits``), below 2**31."""
    return (sequence << bits) | token


def edge_table(
    pairs: list[tuple[int, int]], children: np.ndarray, sequences: int, tokens: int
) -> tuple[np.ndarray, int, int]:
    """``WordIndex``'s ``edges``, ``edge_probes`` and ``edge_bits`` for the (sequence id,
    token index) ``pairs`` leading to ``children``: compact when every compact key (of
    ``sequences`` ids and ``tokens`` tokens) is below 2**31."""
    bits = max(1, (tokens - 1).bit_length())
    if sequences << bits > 1 << 31:
        keys = np.fromiter((edge_key(*pair) for pair in pairs), np.uint64, len(pairs))
        table, probes = key_table(keys)
        used = table[1::2] >= 0
        table[1::2][used] = children[table[1::2][used]]
        return table, probes, 0
    keys = np.fromiter((compact_edge_key(*pair, bits) for pair in pairs), np.uint64, len(pairs))
    table, probes = key_table(keys)
    slots = np.full(len(table) // 2, -1, dtype=np.int64)
    used = table[1::2] >= 0
    slots[used] = (table[0::2][used] << 32) | children[table[1::2][used]]
    return slots, probes, bits


def word_index(codepoints: np.ndarray, offsets: np.ndarray, low: int, high: int) -> WordIndex:
    """The word analyzer's vocabulary (terms as code points and offsets, ``term_table``'s)
    as a trie over tokens, for n-grams of ``low`` to ``high`` tokens. A term is its tokens
    joined by single spaces (tokens never hold a space); only terms of ``low`` to ``high``
    non-empty tokens can be n-grams, and their prefixes are the trie's sequences. A sequence
    that is a term has the term's index as its id, any other an id from ``len(terms)`` on, so
    an id below ``len(terms)`` names a term. ``edges`` maps (sequence id, token index) to
    the id of the sequence one token longer."""
    text = codepoints.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    terms = [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    ids = {term: k for k, term in enumerate(terms)}
    tokens: dict[str, int] = {}
    token_ids: list[int] = []
    edges: dict[tuple[int, int], int] = {}

    def sequence_id(sequence: str) -> int:
        if sequence not in ids:
            ids[sequence] = len(ids)
        return ids[sequence]

    for number, term in enumerate(terms):
        parts = term.split(" ")
        if not low <= len(parts) <= high or not all(parts):
            continue
        parent = -1
        last = len(parts) - 1
        for n, part in enumerate(parts):
            if part not in tokens:
                tokens[part] = len(tokens)
                token_ids.append(sequence_id(part))
            if not n:
                child = token_ids[tokens[part]]
            else:
                child = number if n == last else sequence_id(" ".join(parts[: n + 1]))
                edges[parent, tokens[part]] = child
            parent = child
    if len(ids) >= TOKEN_STARTS:  # token indices below the flags, ids below the sign bit
        raise ValueError(f"a word vocabulary of {len(ids)} sequences is too large to index")
    children = np.fromiter(edges.values(), np.int64, len(edges))
    table, probes, bits = edge_table(list(edges), children, len(ids), len(tokens))
    ids_of_tokens = np.array(token_ids, dtype=np.int64)
    parents = {parent for parent, _ in edges}
    records = np.arange(len(tokens), dtype=np.int64) | (ids_of_tokens << TOKEN_ID_SHIFT)
    records[[k for k, id_ in enumerate(token_ids) if id_ in parents]] |= TOKEN_STARTS
    records[sorted({token for _, token in edges})] |= TOKEN_FOLLOWS
    found = term_table(list(tokens), tokens=True)
    slots = found.table.copy()
    taken = slots[1::2] >= 0
    slots[1::2][taken] = records[slots[1::2][taken]]
    return WordIndex(
        tokens=found,
        token_ids=ids_of_tokens.astype(np.int32),
        edges=table,
        edge_probes=probes,
        edge_bits=bits,
        token_slots=slots,
    )
