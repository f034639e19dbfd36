"""Tests of ``text_tables``: the code-point map against sklearn, character classes, term tables."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import (
    _preprocess,
    strip_accents_ascii,
    strip_accents_unicode,
)

from willump_mlir.abi import FNV_OFFSET, FNV_PRIME
from willump_mlir.dialects.feature import fnv1a64
from willump_mlir.frontend.text_tables import (
    CLASS_SPACE,
    CLASS_WORD,
    MAP_PYTHON,
    TOKEN_BYTES,
    TOKEN_FOLLOWS,
    TOKEN_ID_SHIFT,
    TOKEN_LENGTH_SHIFT,
    TOKEN_STARTS,
    CharMap,
    TermTable,
    char_classes,
    char_map,
    fnv1a64_codepoints,
    home_slot,
    renumbered,
    term_key,
    term_table,
    token_key,
    word_index,
)

CONFIGS = list(itertools.product([False, True], [None, "ascii", "unicode"]))
ACCENTS = {None: None, "ascii": strip_accents_ascii, "unicode": strip_accents_unicode}
ALL = "".join(map(chr, range(0x110000)))
SURROGATE = np.zeros(0x110000, dtype=bool)
SURROGATE[0xD800:0xE000] = True


def sklearn(text: str, lowercase: bool, strip_accents: str | None) -> str:
    """What scikit-learn's vectorizers do to ``text`` before tokenizing."""
    return _preprocess(text, accent_function=ACCENTS[strip_accents], lower=lowercase)


def entries(table: CharMap) -> np.ndarray:
    """The entry of every code point."""
    return table.blocks.reshape(-1, 256)[table.index].ravel()


def mapped(table: CharMap, cp: int) -> str | None:
    """What ``cp`` maps to, None for ``MAP_PYTHON``."""
    entry = int(table.blocks[table.index[cp >> 8] * 256 + (cp & 255)])
    if entry == MAP_PYTHON:
        return None
    if entry % 2 == 0:
        return chr(cp + (entry >> 1))
    offset = entry >> 1
    count = int(table.sequences[offset])
    return "".join(map(chr, table.sequences[offset + 1 : offset + 1 + count]))


def mapped_text(table: CharMap, text: str) -> str | None:
    """The per-code-point mapping of ``text``, None if any code point is ``MAP_PYTHON``."""
    parts = [mapped(table, ord(ch)) for ch in text]
    return None if None in parts else "".join(parts)  # type: ignore[arg-type]


def python_only(lowercase: bool) -> np.ndarray:
    """Where the entry must be ``MAP_PYTHON``."""
    expected = SURROGATE.copy()
    expected[0x03A3] = lowercase
    return expected


LOWER_CHANGES = [cp for cp, ch in enumerate(ALL) if ch.lower() != ch]
# Code points that some configuration changes or that have a nonzero combining class.
INTERESTING = sorted(
    set(LOWER_CHANGES)
    | {
        cp
        for cp, ch in enumerate(ALL)
        if not SURROGATE[cp]
        and (unicodedata.normalize("NFKD", ch) != ch or unicodedata.combining(ch))
    }
)
POOL = np.array(INTERESTING + list(range(0x20, 0x7F)) + [0x0130, 0x03A3, 0xAC00, 0xFDFA])


@cache
def expected(lowercase: bool, strip_accents: str | None) -> list[str]:
    """sklearn's result for each code point alone."""
    if not lowercase:
        return [sklearn(ch, False, strip_accents) for ch in ALL]
    # A code point that is its own lowercase gives what it gives without lowercasing.
    result = list(expected(False, strip_accents))
    for cp in LOWER_CHANGES:
        result[cp] = sklearn(chr(cp), True, strip_accents)
    return result


def is_sequence(flat: np.ndarray) -> np.ndarray:
    """Which entries are sequences (odd and positive)."""
    return (flat & 1).astype(bool) & (flat > 0)


def sequence_lengths(table: CharMap, flat: np.ndarray) -> np.ndarray:
    """The length of each code point's sequence (sequence entries only)."""
    return table.sequences[flat[is_sequence(flat)] >> 1]


@pytest.mark.parametrize(("lowercase", "strip_accents"), CONFIGS)
def test_every_code_point_matches_sklearn(lowercase: bool, strip_accents: str | None) -> None:
    table = char_map(lowercase, strip_accents)
    flat = entries(table)
    python = flat == MAP_PYTHON
    assert np.array_equal(python, python_only(lowercase))
    results = expected(lowercase, strip_accents)
    lengths = np.fromiter(map(len, results), np.int64, len(results))
    single = (lengths == 1) & ~python
    singles = "".join(itertools.compress(results, single))
    codes = np.frombuffer(singles.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    assert np.array_equal(flat % 2 == 0, single)
    assert np.array_equal(single.nonzero()[0] + (flat[single] >> 1), codes)
    sequence = is_sequence(flat)
    assert np.array_equal(sequence, ~single & ~python)
    assert np.array_equal(sequence_lengths(table, flat), lengths[sequence])
    for cp in (sequence & (lengths > 0)).nonzero()[0]:
        assert mapped(table, int(cp)) == results[cp], hex(cp)


@pytest.mark.parametrize(("lowercase", "strip_accents"), CONFIGS)
def test_random_sequences_match_sklearn(lowercase: bool, strip_accents: str | None) -> None:
    table = char_map(lowercase, strip_accents)
    rng = np.random.default_rng(3)
    for length in (2, 3, 5):
        for row in rng.choice(POOL, size=(3000, length)):
            text = "".join(map(chr, row))
            ours = mapped_text(table, text)
            if ours is not None:
                assert ours == sklearn(text, lowercase, strip_accents), ascii(text)


texts = st.lists(
    st.sampled_from(INTERESTING) | st.integers(0, 0x10FFFF).filter(lambda cp: not SURROGATE[cp]),
    max_size=12,
).map(lambda cps: "".join(map(chr, cps)))


@settings(max_examples=200, deadline=None)
@given(text=texts, config=st.sampled_from(CONFIGS))
def test_hypothesis_text_matches_sklearn(text: str, config: tuple[bool, str | None]) -> None:
    ours = mapped_text(char_map(*config), text)
    assert ours is None or ours == sklearn(text, *config)


def test_context_and_expanding_code_points() -> None:
    # Capital sigma lowercases by context, so the map leaves it to Python.
    assert sklearn("ΟΔΟΣ", True, None) == "οδος"
    assert sklearn("ΣΑ", True, None) == "σα"
    assert mapped(char_map(True, None), 0x03A3) is None
    assert mapped(char_map(False, "unicode"), 0x03A3) == "Σ"
    # U+0130 lowercases to two code points: a sequence, the dot then stripped.
    assert "İ".lower() == "i\u0307"
    assert mapped(char_map(True, None), 0x0130) == "i\u0307"
    assert mapped(char_map(True, "unicode"), 0x0130) == "i"
    assert mapped(char_map(True, "ascii"), 0x0130) == "i"
    assert mapped(char_map(False, None), 0x0130) == "İ"
    assert mapped_text(char_map(True, None), "İSTANBUL") == sklearn("İSTANBUL", True, None)
    # Canonical reordering across code points only moves marks, which both strips drop.
    text = "c\u0327\u0301\u0316e\u0301"
    assert unicodedata.normalize("NFKD", text) != text
    for strip in ("ascii", "unicode"):
        assert mapped_text(char_map(True, strip), text) == sklearn(text, True, strip) == "ce"


@pytest.mark.parametrize(("lowercase", "strip_accents"), CONFIGS)
def test_max_expansion(lowercase: bool, strip_accents: str | None) -> None:
    table = char_map(lowercase, strip_accents)
    flat = entries(table)
    lengths = sequence_lengths(table, flat)
    cps = is_sequence(flat).nonzero()[0][lengths > 0]
    utf8 = np.array([len(chr(int(cp)).encode("utf-8")) for cp in cps], dtype=np.int64)
    ceiling = -(-lengths[lengths > 0] // utf8)
    assert table.max_expansion == max(1, int(ceiling.max(initial=0)))
    assert table.max_expansion == {None: 1, "ascii": 2, "unicode": 6}[strip_accents]


@pytest.mark.parametrize(("lowercase", "strip_accents"), CONFIGS)
def test_table_layout(lowercase: bool, strip_accents: str | None) -> None:
    table = char_map(lowercase, strip_accents)
    assert char_map(lowercase, strip_accents) is table
    assert table.index.shape == (0x1100,)
    assert table.index.dtype == table.blocks.dtype == table.sequences.dtype == np.int32
    rows = table.blocks.reshape(-1, 256)
    assert len({row.tobytes() for row in rows}) == len(rows)
    assert sorted(set(table.index.tolist())) == list(range(len(rows)))
    assert table.sequences[0] == 0
    assert not table.blocks.flags.writeable
    assert (table.blocks[is_sequence(table.blocks)] >> 1 < len(table.sequences)).all()


@pytest.mark.parametrize(("lowercase", "strip_accents"), CONFIGS)
def test_relative_entries_share_blocks(lowercase: bool, strip_accents: str | None) -> None:
    table = char_map(lowercase, strip_accents)
    # Most blocks map each code point to itself (all 0), or drop each one (all 1) for "ascii".
    common = table.blocks.reshape(-1, 256)[table.index[0x4E]]
    assert (common == (strip_accents == "ascii")).all()
    assert np.count_nonzero(table.index == table.index[0x4E]) > 0x1100 // 2
    assert len(table.blocks) < 160 * 256
    assert mapped(table, ord("x")) == "x"
    dropped = {None: [], "ascii": [0x0301, 0x4E00], "unicode": [0x0301]}[strip_accents]
    for cp in dropped:
        assert table.blocks[table.index[cp >> 8] * 256 + (cp & 255)] == 1


def test_bad_strip_accents() -> None:
    with pytest.raises(ValueError, match="strip_accents"):
        char_map(True, "none")


def test_char_classes_match_re() -> None:
    classes = char_classes()
    assert classes.shape == (0x110000,)
    assert classes.dtype == np.uint8
    assert char_classes() is classes
    word = re.compile(r"\w").fullmatch
    space = re.compile(r"\s").fullmatch
    assert [bool(word(ch)) for ch in ALL] == (classes & CLASS_WORD).astype(bool).tolist()
    spaces = [ch.isspace() for ch in ALL]
    assert spaces == [bool(space(ch)) for ch in ALL]
    assert spaces == (classes & CLASS_SPACE).astype(bool).tolist()


def reference_hash(term: str) -> int:
    """FNV-1a 64 over code points, written out here."""
    h = FNV_OFFSET
    for cp in map(ord, term):
        h = ((h ^ cp) * FNV_PRIME) % (1 << 64)
    return h


def signed(code: int) -> int:
    return code - (1 << 64) if code >> 63 else code


def lookup(table: TermTable, term: str) -> tuple[int, int]:
    """The index of ``term`` (-1 if absent) and the slots inspected, as a kernel would."""
    points = [ord(ch) for ch in term]
    key = term_key(term)
    size = len(table.table) // 2
    home = home_slot(key, size)
    for step in range(table.probes):
        slot = (home + step) & (size - 1)
        stored, index = (int(v) for v in table.table[2 * slot : 2 * slot + 2])
        if index < 0:
            return -1, step + 1
        start, end = table.offsets[index], table.offsets[index + 1]
        if stored == signed(key) and (key >> 63 or table.codepoints[start:end].tolist() == points):
            return index, step + 1
    return -1, table.probes


def check_table(terms: list[str], others: list[str]) -> None:
    table = term_table(terms)
    size = len(table.table) // 2
    assert table.table.dtype == table.offsets.dtype == np.int64
    assert table.codepoints.dtype == np.int32
    assert size & (size - 1) == 0 and size >= 2 * len(terms)
    decoded = [
        "".join(map(chr, table.codepoints[a:b])) for a, b in itertools.pairwise(table.offsets)
    ]
    assert decoded == terms
    used = table.table[1::2] >= 0
    assert sorted(table.table[1::2][used].tolist()) == list(range(len(terms)))
    assert (table.table[0::2][~used] == -1).all()
    probes = 1
    for index, term in enumerate(terms):
        found, slots = lookup(table, term)
        assert found == index
        probes = max(probes, slots)
    assert probes == table.probes
    for other in set(others) - set(terms):
        assert lookup(table, other)[0] == -1


@settings(max_examples=100, deadline=None)
@given(
    terms=st.lists(st.text(max_size=6), unique=True, max_size=40),
    others=st.lists(st.text(max_size=6), max_size=20),
)
def test_term_table_finds_terms(terms: list[str], others: list[str]) -> None:
    check_table(terms, others)


def test_term_table_large_and_colliding() -> None:
    rng = np.random.default_rng(0)
    words = {"".join(rng.choice(list("abcdeé字"), size=rng.integers(1, 7))) for _ in range(6000)}
    terms = sorted(words)
    check_table(terms[:5000], terms[5000:] + ["", "zzz"])
    check_table(["", "a", "ab"], ["b", "abc"])
    # Surrogates and astral code points are single code points; a long term among short ones.
    check_table(["\ud800", "\U0001f600x", "y" * 300, "é"], ["\udc00", "\U0001f600", "y" * 299])


def test_term_table_keys() -> None:
    """Short terms are their own (negative) keys; longer ones their FNV-1a with 2 bits clear."""
    rng = np.random.default_rng(1)
    alphabet = list("ab\x00é字") + ["\U0001f600", "\U0010ffff"]
    terms = sorted({"".join(rng.choice(alphabet, size=rng.integers(0, 40))) for _ in range(3000)})
    table = term_table(terms)
    used = table.table[1::2] >= 0
    for code, index in zip(table.table[0::2][used], table.table[1::2][used], strict=True):
        term = terms[index]
        assert int(code) == signed(term_key(term))
        assert fnv1a64_codepoints(term) == reference_hash(term)
        exact = len(term) <= 3 and max(map(ord, term), default=0) < (1 << 20) - 1
        exact |= len(term) == 4 and max(map(ord, term)) < (1 << 15) - 1
        assert (int(code) < 0) == exact, term
        if not exact:
            assert int(code) == reference_hash(term) & ((1 << 62) - 1)
    assert term_key("ab") != term_key("ab\x00")
    assert term_key("\x00") != term_key("")


def test_fnv1a64_codepoints() -> None:
    # Code points below 256 hash as the Latin-1 bytes would; larger ones are one step each.
    for term in ["", "a", "foobar", "café", "\x00\xff"]:
        assert fnv1a64_codepoints(term) == fnv1a64(term.encode("latin-1"))
    assert fnv1a64_codepoints("a") == 0xAF63DC4C8601EC8C
    assert fnv1a64_codepoints("字") == (FNV_OFFSET ^ 0x5B57) * FNV_PRIME % (1 << 64)
    assert fnv1a64_codepoints("字") != fnv1a64("字".encode())


def test_term_table_edge_cases() -> None:
    empty = term_table([])
    assert empty.probes == 1
    assert empty.offsets.tolist() == [0]
    assert empty.codepoints.dtype == np.int32 and len(empty.codepoints) == 0
    assert (empty.table == -1).all()
    only = term_table([""])
    assert only.offsets.tolist() == [0, 0] and lookup(only, "") == (0, 1)
    with pytest.raises(ValueError, match="distinct"):
        term_table(["a", "a"])
    layout = term_table(["a", "", "é字"])
    assert layout.codepoints.tolist() == [ord("a"), 0xE9, 0x5B57]
    assert layout.offsets.tolist() == [0, 1, 1, 3]


def test_token_keys() -> None:
    """A token of one to seven code points below 256 is its own key (bytes, length, sign),
    and so is one of eight whose first is from 8 to 127 (bytes, sign); any other token is
    its FNV-1a with 2 bits clear, as ``term_key``'s hashed keys. The table's keys (computed
    at once) agree with ``token_key``, and each token is found."""
    rng = random.Random(2)  # not numpy's choice: its strings lose trailing NULs
    alphabet = "ab_9\x00\x01é\xff字\U0001f600\U0010ffff\u0100"
    tokens = sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 11))) for _ in range(4000)})
    tokens += ["a" * 7, "a" * 8, "\xff" * 7, "\xff" * 6 + "\u0100", "x" * 300, "a" * 9,
               "\x07" + "a" * 7, "\x08" + "a" * 7, "\x7f" * 8, "\x80" + "a" * 7, "a" * 7 + "\xff",
               "a" * 7 + "\u0100", "\x08" * 7]  # fmt: skip
    table = term_table(tokens, tokens=True)
    used = table.table[1::2] >= 0
    assert sorted(table.table[1::2][used].tolist()) == list(range(len(tokens)))
    for code, index in zip(table.table[0::2][used], table.table[1::2][used], strict=True):
        token = tokens[index]
        key = token_key(token)
        assert int(code) == signed(key)
        points = [ord(ch) for ch in token]
        if len(points) <= TOKEN_BYTES and max(points) < 256:
            packed = sum(p << (8 * (len(points) - 1 - k)) for k, p in enumerate(points))
            assert key == (1 << 63) | (len(points) << TOKEN_LENGTH_SHIFT) | packed, token
        elif len(points) == TOKEN_BYTES + 1 and max(points) < 256 and 8 <= points[0] < 128:
            packed = sum(p << (8 * (7 - k)) for k, p in enumerate(points))
            assert key == (1 << 63) | packed, token
        else:
            assert key == reference_hash(token) & ((1 << 62) - 1), token
    assert len({token_key(t) for t in tokens}) == len(tokens)
    assert token_key("\x00") != token_key("\x00\x00") != token_key("\x00" * 3)


def test_word_index_token_slots() -> None:
    """Each token's slot holds its index, its one-token id and whether that id has an edge
    (``TOKEN_STARTS``) and whether the token extends some sequence (``TOKEN_FOLLOWS``)."""
    terms = ["new york", "new", "york city", "city", "the", "a b", "new york city"]
    table = term_table(terms)
    index = word_index(table.codepoints, table.offsets, 1, 3)
    tokens = [
        "".join(map(chr, index.tokens.codepoints[a:b]))
        for a, b in itertools.pairwise(index.tokens.offsets)
    ]
    slots = index.token_slots.reshape(-1, 2)
    assert (slots[:, 0] == index.tokens.table.reshape(-1, 2)[:, 0]).all()
    records = {tokens[int(v) & (TOKEN_STARTS - 1)]: int(v) for v in slots[:, 1] if v >= 0}
    assert sorted(records) == sorted(tokens) == ["a", "b", "city", "new", "the", "york"]
    for token, record in records.items():
        assert record >> TOKEN_ID_SHIFT == index.token_ids[tokens.index(token)]
    starts = {t for t, r in records.items() if r & TOKEN_STARTS}
    follows = {t for t, r in records.items() if r & TOKEN_FOLLOWS}
    assert starts == {"new", "york", "a"}  # "new york", "york city", "a b" (not "city")
    assert follows == {"york", "city", "b"}
    assert records["new"] >> TOKEN_ID_SHIFT == terms.index("new")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renumbered_term_table(seed: int) -> None:
    """A term table renumbered by a permutation finds each term under its new number (long
    terms compared by their code points, which moved), misses the others, and probes as
    many slots as before."""
    rng = np.random.default_rng(seed)
    alphabet = list("abé字") + ["\U0001f600"]
    words = {"".join(rng.choice(alphabet, size=rng.integers(0, 12))) for _ in range(2500)}
    terms = sorted(words)[:2000]
    others = sorted(words)[2000:] + ["zz", "y" * 40]
    table = term_table(terms)
    order = rng.permutation(len(terms))
    new = renumbered(table, order)
    assert new.probes == table.probes
    assert new.codepoints.dtype == np.int32 and new.offsets.dtype == np.int64
    decoded = ["".join(map(chr, new.codepoints[a:b])) for a, b in itertools.pairwise(new.offsets)]
    assert decoded == [terms[k] for k in order]
    for number, old in enumerate(order.tolist()):
        assert lookup(new, terms[old])[0] == number
    for other in others:
        assert lookup(new, other)[0] == -1
    empty = renumbered(term_table([]), np.arange(0))
    assert empty.offsets.tolist() == [0] and (empty.table == -1).all()
