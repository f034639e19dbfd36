"""``fnv1a64`` and ``string_table``: the hash table behind ``feature.encode_strings``."""

from __future__ import annotations

import numpy as np
import pytest

from willump_mlir.abi import FNV_OFFSET, FNV_PRIME
from willump_mlir.dialects.feature import fnv1a64, string_table


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Test vectors from the FNV reference (Fowler/Noll/Vo, test_fnv.c), FNV-1a 64-bit.
        (b"", 0xCBF29CE484222325),
        (b"a", 0xAF63DC4C8601EC8C),
        (b"b", 0xAF63DF4C8601F1A5),
        (b"foo", 0xDCB27518FED9D577),
        (b"foobar", 0x85944171F73967E8),
        (b"\0", 0xAF63BD4C8601B7DF),
    ],
)
def test_fnv1a64_known_vectors(data: bytes, expected: int) -> None:
    assert fnv1a64(data) == expected


def test_fnv1a64_constants_and_range() -> None:
    assert FNV_OFFSET == 0xCBF29CE484222325
    assert FNV_PRIME == 0x100000001B3
    for data in [b"", "Zürich".encode(), bytes(range(256)), b"\xff" * 100]:
        assert 0 <= fnv1a64(data) < 1 << 64


def lookup(table: np.ndarray, probes: int, strings: list[bytes | None], key: bytes) -> int:
    """The kernel's lookup: ``probes`` slots from ``hash & (size - 1)``, comparing bytes."""
    h = fnv1a64(key)
    for p in range(probes):
        entry = int(table[(h + p) & (len(table) - 1)])
        if entry >= 0 and strings[entry] == key:
            return entry
    return -1


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


CASES = [
    [],
    [b""],
    [b"a"],
    [b"Bern", b"Gen\xc3\xa8ve", b"Z\xc3\xbcrich"],
    [b"a", None, b"b"],
    [None],
    [f"city{i}".encode() for i in range(5)],
    [f"c{i}".encode() for i in range(100)],
    [str(i).encode() for i in range(1000)] + [None],
]


@pytest.mark.parametrize("strings", CASES, ids=lambda s: f"{len(s)}")
def test_every_string_is_found_within_probes(strings: list[bytes | None]) -> None:
    table, probes = string_table(strings)
    size = len(table)
    assert table.dtype == np.int64
    assert 1 <= probes <= size
    for index, value in enumerate(strings):
        if value is not None:
            assert lookup(table, probes, strings, value) == index, value
    # Strings that are not categories are not found.
    for key in [b"missing", b"Basel", b"c100", b"1000", b"\0"]:
        if key not in strings:
            assert lookup(table, probes, strings, key) == -1


@pytest.mark.parametrize("strings", CASES, ids=lambda s: f"{len(s)}")
def test_table_layout(strings: list[bytes | None]) -> None:
    table, probes = string_table(strings)
    size = len(table)
    assert _is_power_of_two(size)
    assert size >= 2 * len(strings)
    present = [i for i, v in enumerate(strings) if v is not None]
    # Each present index occupies exactly one slot; every other slot is empty (-1).
    assert sorted(int(v) for v in table if v >= 0) == present
    assert np.all((table == -1) | (table >= 0))
    assert np.count_nonzero(table == -1) == size - len(present)


def test_none_entries_are_skipped() -> None:
    table, _ = string_table([None, b"a", None, b"b", None])
    assert sorted(int(v) for v in table if v >= 0) == [1, 3]
    table, probes = string_table([None, None])
    assert np.all(table == -1)
    assert probes == 1


def test_probes_is_the_longest_probe_sequence() -> None:
    # Strings that all hash to the same slot of an 8-slot table chain: probes counts the chain.
    target = fnv1a64(b"k0") % 8
    colliding = [b"k0"]
    i = 1
    while len(colliding) < 3:
        key = f"k{i}".encode()
        if fnv1a64(key) % 8 == target:
            colliding.append(key)
        i += 1
    table, probes = string_table(colliding)
    assert len(table) == 8
    assert probes == 3
    for index in range(3):
        assert table[(target + index) % 8] == index
    # One probe fewer misses the last one.
    assert lookup(table, probes - 1, list(colliding), colliding[-1]) == -1
