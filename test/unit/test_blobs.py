"""The blob store: content-addressed arrays that travel with a compilation's module."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import TensorType, f32, f64
from xdsl.parser import Parser

from willump_mlir.blobs import (
    BlobError,
    BlobStore,
    blob_attributes,
    blob_digest,
    blob_store,
    immutable,
)
from willump_mlir.compiler import context
from willump_mlir.dialects.pipeline import BlobAttr


def test_add_names_blobs_by_content_and_keeps_a_read_only_copy() -> None:
    store = BlobStore()
    data = np.array([1.0, 2.0])
    blob = store.add("scaler.mean", data)
    assert blob.symbol.data.startswith("scaler_mean_") and blob.type == TensorType(f64, [2])
    assert store.add("scaler.mean", data.copy()) == blob  # same content, same blob
    data[0] = 99.0  # the caller's array changes; the store's does not
    assert store.array(blob).tolist() == [1.0, 2.0]
    assert not store.array(blob).flags.writeable
    assert store.add("scaler.mean", data) != blob


def test_put_refuses_data_that_does_not_hash_to_its_name() -> None:
    store = BlobStore()
    blob = store.add("w", np.arange(3.0))
    with pytest.raises(BlobError, match="does not hold the data its name hashes"):
        BlobStore({blob.symbol.data: np.arange(4.0)})
    with pytest.raises(BlobError, match="unsupported dtype"):
        BlobStore({"w_0": np.arange(3, dtype=np.int16)})


def test_array_checks_the_type_the_ir_reads() -> None:
    store = BlobStore()
    blob = store.add("w", np.arange(3.0))
    wrong = BlobAttr(blob.symbol.data, TensorType(f32, [3]))
    with pytest.raises(BlobError, match=r"is float64\[3\], the IR reads it as"):
        store.array(wrong)
    with pytest.raises(BlobError, match="not in this compilation's blob store"):
        store.array(BlobAttr("absent_0123456789abcdef", TensorType(f64, [3])))


def test_resources_parse_untyped_and_are_typed_and_checked_by_their_first_reader() -> None:
    source = BlobStore()
    blob = source.add("scale", np.array([1.0, 2.0]))
    symbol = blob.symbol.data
    text = (
        f'"test.op"() {{b = #pipeline.blob<{symbol} : tensor<2xf64>>}} : () -> ()\n'
        f'{{-# dialect_resources: {{ pipeline: {{ {symbol}: "{source.hex(symbol)}" }} }} #-}}'
    )
    ctx = context()
    ctx.allow_unregistered = True
    module = Parser(ctx, text).parse_module()
    store = blob_store(ctx)
    assert symbol in store and len(store) == 0  # parsed, not yet typed
    (attr,) = blob_attributes(module)
    assert store.array(attr).tolist() == [1.0, 2.0] and len(store) == 1

    tampered = BlobStore()
    tampered.put_bytes(symbol, np.array([1.0, 3.0]).tobytes())
    with pytest.raises(BlobError, match="does not hold the data its name hashes"):
        tampered.array(attr)
    short = BlobStore()
    short.put_bytes(symbol, b"\0" * 8)
    with pytest.raises(BlobError, match="holds 8 bytes, not tensor<2xf64>"):
        short.array(attr)


def test_each_context_has_its_own_store_and_a_plain_context_none() -> None:
    first, second = context(), context()
    blob_store(first).add("w", np.zeros(2))
    assert len(blob_store(second)) == 0
    with pytest.raises(BlobError, match="has no blob store"):
        blob_store(Context())


def test_truncate_forgets_blobs_added_after_a_mark() -> None:
    store = BlobStore()
    store.add("a", np.zeros(1))
    store.add("b", np.ones(1))
    store.truncate(1)
    assert [s.split("_")[0] for s in store] == ["a"]


@pytest.mark.parametrize(
    ("array", "digest"),
    [
        (np.arange(6.0).reshape(2, 3), "11fe30b7a155c508"),
        (np.zeros((0, 3), np.int32), "e1db986bbcb9e1f1"),
        (np.array(7, np.int64), "99b8c47f9fd58d23"),
    ],
)
def test_digests_stay_those_of_saved_names(array: np.ndarray, digest: str) -> None:
    """Hashing in place (no copy of the bytes) gives the digests blob names always had."""
    assert blob_digest(array) == digest


def test_a_view_of_bytes_is_kept_without_a_copy() -> None:
    """A read-only view of a ``bytes`` object (a blob read in place) cannot change: the
    store keeps it as it is; an array that owns its memory, or a writable one, is copied."""
    data = np.arange(4.0)
    view = np.frombuffer(data.tobytes(), np.float64)
    owned = data.copy()
    owned.setflags(write=False)
    assert immutable(view) and not immutable(owned) and not immutable(data)
    store = BlobStore()
    attr = store.add("v", view)
    assert store.array(attr) is view
    assert store.array(store.add("w", data * 2)).base is None


def test_blobs_put_later_are_checked_when_first_read() -> None:
    """``put_later`` stores a blob unhashed; reading it (an item, ``array``, a copy's or an
    including store's read) checks it then, and a damaged one is refused then."""
    made = BlobStore()
    good = made.add("good", np.arange(4.0))
    bad = made.add("bad", np.arange(3.0))
    store = BlobStore()
    store.put_later(good.symbol.data, made[good.symbol.data])
    store.put_later(bad.symbol.data, np.arange(3.0) + 1)  # not what its name hashes
    assert set(store) == {good.symbol.data, bad.symbol.data} and len(store) == 2
    copied, including = store.copy(), BlobStore()
    including.include(store)
    np.testing.assert_array_equal(store.array(good), np.arange(4.0))
    for reader in (store, copied, including):
        with pytest.raises(BlobError, match="does not hold the data its name hashes"):
            reader[bad.symbol.data]
    np.testing.assert_array_equal(including[good.symbol.data], np.arange(4.0))
    trusted = BlobStore.checked({good.symbol.data: made[good.symbol.data]})
    assert trusted[good.symbol.data] is made[good.symbol.data]  # kept as it is, not hashed
