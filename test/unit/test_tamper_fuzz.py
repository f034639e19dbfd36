"""Every file of a save and of a cache entry, damaged or tampered with: never a crash or a
wrong result.

Three pipelines (tabular, text with vocabulary blobs, trees) are compiled, saved without a
pickle (and the tabular one also with one) and attacked: each file truncated, emptied,
bytes flipped, removed; then, with the checksums recomputed as someone editing a save
would, each blob resized, retyped, reshaped, changed, emptied or swapped with another
save's, the IR's blob types shrunk, the manifest edited, files swapped between saves, a
pickle added; signed saves edited; every cache entry truncated, flipped, its plan shrunk and
entries swapped between pipelines. Each attacked save is loaded and called in a child
process (a native crash would kill pytest), which reports an error or the result: an
attacked save must give a clear ``InputError`` naming the save (or, for a cache entry, the
correct result of a recompile); any result must equal the original's, but that of an IR
edited in an unsigned save (which may be another valid program), which must only not crash.

``WILLUMP_MLIR_FUZZ_ROUNDS=N`` multiplies the random byte flips in the IR (default 1; the
run in CI stays under two minutes).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tamper_pipelines
from tamper_pipelines import WritesMarker

import willump_mlir as wm
from willump_mlir.runtime import jit

ROUNDS = int(os.environ.get("WILLUMP_MLIR_FUZZ_ROUNDS", "1"))
CHILD = Path(__file__).with_name("tamper_child.py")
PIPELINES = ("tabular", "text", "trees")
KEY = "the fuzz test's signing key"


@dataclass
class Saved:
    name: str
    save: Path  # without a pickle
    pickled: Path  # with one (loaded trusted)
    input: Path  # the data arguments, pickled
    expected: Path  # the compiled pipeline's result on them
    entry: Path  # its object-code cache entry
    data: tuple[Any, ...]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Saved]]]:
    root = tmp_path_factory.mktemp("fuzz")
    cache = root / "cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WILLUMP_MLIR_CACHE_DIR", str(cache))
        patch.delenv("WILLUMP_MLIR_SIGNING_KEY", raising=False)
        saved = {}
        for name in PIPELINES:
            fn, example, fresh = tamper_pipelines.build(name)
            compiled = wm.compile(fn, example=example)
            assert not compiled.traced.python_calls, compiled.explain()
            data = tuple(v for v, a in zip(fresh, compiled.arguments, strict=True)
                         if a.kind != "bound")  # fmt: skip
            expected = np.asarray(compiled(*fresh))
            np.testing.assert_allclose(expected, fn(*fresh), rtol=0, atol=1e-9)
            compiled.save(root / name)
            compiled.save(root / f"{name}-pickled", pickle=True)
            (root / f"{name}.pkl").write_bytes(pickle.dumps(data))
            np.save(root / f"{name}.npy", expected)
            entry = jit.cache_path(compiled.library.cache_key)
            assert entry is not None and entry.is_file()
            saved[name] = Saved(
                name, root / name, root / f"{name}-pickled", root / f"{name}.pkl",
                root / f"{name}.npy", entry, data,
            )  # fmt: skip
        yield root, saved


# region Attacks


def reseal(target: Path, key: str | None = None) -> None:
    """Recompute a save's checksums (and its HMAC under ``key``), as an editor would."""
    files = {
        name: hashlib.sha256((target / name).read_bytes()).hexdigest()
        for name in sorted(os.listdir(target))
        if name != "checksums.json"
    }
    mac = None
    if key is not None:
        import hmac

        message = json.dumps(files, sort_keys=True).encode()
        mac = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    (target / "checksums.json").write_text(json.dumps({"files": files, "hmac_sha256": mac}))


def flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :]


def read_blobs(save: Path) -> dict[str, np.ndarray]:
    with np.load(save / "blobs.npz") as archive:
        return {name: archive[name] for name in archive.files}


def write_blobs(save: Path, blobs: dict[str, np.ndarray]) -> None:
    with (save / "blobs.npz").open("wb") as file:
        np.savez(file, **blobs)


def blob_edits(data: np.ndarray) -> dict[str, np.ndarray]:
    """Each way to resize, retype or change one blob."""
    flat = data.reshape(-1)
    edits = {
        "one more": np.append(flat, flat[:1]),
        "cut to one": flat[:1],
        "emptied": flat[:0],
        "reshaped": flat.reshape(-1, 1) if data.ndim == 1 else flat,
        "retyped": data.astype(np.float32 if data.dtype != np.float32 else np.float64),
        "as int32": data.astype(np.int32),
        "bytes changed": np.frombuffer(flip(data.tobytes(), data.nbytes // 2), data.dtype)
        .reshape(data.shape) if data.nbytes else np.append(flat, flat),
    }
    if data.size > 1:
        edits["one less"] = flat[:-1]
    if data.dtype.kind in "iu":
        edits["values raised"] = (data.astype(np.int64) + 10**12 + 1).astype(data.dtype)
    return {
        what: edited
        for what, edited in edits.items()
        if edited.dtype != data.dtype or edited.shape != data.shape
        or edited.tobytes() != data.tobytes()
    }  # an edit that changes nothing is no attack


@dataclass
class Attack:
    what: str
    edit: Callable[[Path], None] | None  # edits a copy of the save (None: the save as it is)
    expect: str  # "error": an InputError naming the save; "equal": the original's result;
    # "error or equal": either; "error or a result": an unsigned save's IR edited, which may
    # be another valid program (only a signature tells them apart), but never a crash
    pickled: bool = False
    key: str | None = None
    entry: bytes | None = None  # a cache attack: the bytes to put in the cache entry


def save_attacks(saved: Saved, others: list[Saved], rng: random.Random) -> Iterator[Attack]:
    files = sorted(os.listdir(saved.save))
    for name in [*files, "objects.pkl"]:
        source = saved.pickled if name == "objects.pkl" else saved.save
        pickled = name == "objects.pkl"
        raw = (source / name).read_bytes()
        damaged = {
            "truncated": raw[: len(raw) // 2],
            "emptied": b"",
            "extended": raw + b"\0",
            **{f"byte {at} flipped": flip(raw, at) for at in {0, len(raw) // 2, len(raw) - 1}},
        }
        for what, edited in damaged.items():
            yield Attack(f"{name} {what}", write(name, edited), "error", pickled)
        yield Attack(f"{name} removed", lambda s, n=name: (s / n).unlink(), "error", pickled)
    blobs = read_blobs(saved.save)
    for blob, data in blobs.items():
        for what, edited in blob_edits(data).items():
            yield Attack(f"blob {blob} {what}", sealed(set_blob(blob, edited)), "error")
        for other in others:
            for theirs in read_blobs(other.save).values():
                yield Attack(
                    f"blob {blob} swapped with {other.name}'s", sealed(set_blob(blob, theirs)),
                    "error",
                )
                break
    if len(blobs) > 1:
        first, second = sorted(blobs)[:2]
        swapped = {**blobs, first: blobs[second], second: blobs[first]}
        yield Attack("two blobs swapped", sealed(lambda s: write_blobs(s, swapped)), "error")
    yield Attack("a blob removed", sealed(set_blob(sorted(blobs)[0], None)), "error")
    ir = (saved.save / "exact.mlir").read_text()
    for found in re.finditer(r"#pipeline\.blob<\w+ : tensor<(\d+)", ir):
        shrunk = ir[: found.start(1)] + str(max(int(found.group(1)) - 1, 0)) + ir[found.end(1) :]
        yield Attack(f"IR blob type shrunk at {found.start()}", sealed(write("exact.mlir", shrunk)),
                     "error")  # fmt: skip
    for other in others:
        for name in ("exact.mlir", "blobs.npz", "manifest.json"):
            theirs = (other.save / name).read_bytes()
            yield Attack(f"{name} of {other.name}", sealed(write(name, theirs)), "error")
        theirs = (other.pickled / "objects.pkl").read_bytes()  # trusted: the IR still rules
        yield Attack(f"objects.pkl of {other.name}", sealed(write("objects.pkl", theirs)),
                     "error or equal", pickled=True)  # fmt: skip
    manifest = json.loads((saved.save / "manifest.json").read_text())
    program = manifest["programs"]["exact"]
    edits: dict[str, Callable[[dict[str, Any]], None]] = {
        "pickled flag set": lambda m: m.update(pickled=True),
        "pickled flag removed": lambda m: m.pop("pickled"),
        "pipeline kind optimized": lambda m: m.update(pipeline="optimized"),
        "pipeline kind removed": lambda m: m.pop("pipeline"),
        "python call added": lambda m: m["programs"]["exact"]["python_calls"].update(
            py0={"reason": "?", "source": "x", "wraps": False}
        ),
        "blobs emptied": lambda m: m["programs"]["exact"].update(blobs=[]),
        "arguments emptied": lambda m: m["programs"]["exact"].update(arguments=[]),
        "argument kinds swapped": lambda m: [
            a.update(kind="bound" if a["kind"] != "bound" else "array")
            for a in m["programs"]["exact"]["arguments"]
        ],
        "programs emptied": lambda m: m.update(programs={}),
        "version changed": lambda m: m.update(version=3),
    }
    for position, a in enumerate(program["arguments"]):
        if a["type"] is None:
            continue
        wider = re.sub(r"x(\d+)x", lambda f: f"x{int(f.group(1)) + 1}x", a["type"])
        other = (a["type"].replace(": f64", ": !pipeline.str", 1) if ": f64" in a["type"]
                 else a["type"].replace(": !pipeline.str", ": f64", 1))  # fmt: skip
        for what, changed in {"widened": wider, "column kind changed": other}.items():
            if changed != a["type"]:
                edits[f"argument {a['name']} type {what}"] = lambda m, i=position, t=changed: (
                    m["programs"]["exact"]["arguments"][i].update(type=t)
                )
        if len(a["columns"] or []) > 1:
            edits[f"argument {a['name']} columns reversed"] = lambda m, i=position: (
                m["programs"]["exact"]["arguments"][i].update(
                    columns=m["programs"]["exact"]["arguments"][i]["columns"][::-1]
                )
            )
    for what, change in edits.items():
        yield Attack(f"manifest {what}", sealed(edit_manifest(change)), "error")
    yield Attack("manifest function renamed", sealed(edit_manifest(
        lambda m: m.update(function="renamed"))), "equal")  # fmt: skip
    yield Attack("a pickle added", sealed(write("objects.pkl", marker_payload(saved))), "error")
    for name in files:
        raw = (saved.save / name).read_bytes()
        for _ in range(2 * ROUNDS):
            at = rng.randrange(len(raw))
            edit = signed(write(name, flip(raw, at)), name)
            yield Attack(f"signed {name} byte {at} flipped, resealed", edit, "error", key=KEY)
    ir_raw = (saved.save / "exact.mlir").read_bytes()
    for _ in range(3 * ROUNDS):
        at = rng.randrange(len(ir_raw))
        edit = sealed(write("exact.mlir", flip(ir_raw, at)))  # unsigned: another program
        yield Attack(f"IR byte {at} flipped, resealed", edit, "error or a result")
    yield Attack("signed and untouched", signed(lambda s: None), "equal", key=KEY)
    yield Attack("unsigned, loaded with the key set", None, "error", key=KEY)
    yield Attack("untouched", None, "equal")
    yield Attack("pickled, untouched", None, "equal", pickled=True)


def cache_attacks(saved: Saved, others: list[Saved]) -> Iterator[Attack]:
    raw = saved.entry.read_bytes()
    start = len(jit._MAGIC) + jit._HEADER.size
    (meta_length,) = struct.unpack_from("<Q", raw, len(jit._MAGIC) + 32)
    plan = raw.index(b"steps")
    edits = {
        "emptied": b"",
        "cut to the header": raw[:start],
        "truncated": raw[: len(raw) // 2],
        "last byte cut": raw[:-1],
        "extended": raw + b"\0",
        **{
            f"byte {at} flipped": flip(raw, at)
            for at in (0, len(jit._MAGIC) + 3, start + 2, plan + 3, start + meta_length + 8,
                       len(raw) - 1)
        },  # fmt: skip
        "plan shrunk": shrink_plan(raw, start, meta_length),
    }
    for what, edited in edits.items():
        yield Attack(f"cache entry {what}", None, "equal", entry=edited)
    for other in others:
        yield Attack(f"cache entry of {other.name}", None, "equal", entry=other.entry.read_bytes())


def shrink_plan(raw: bytes, start: int, meta_length: int) -> bytes:
    """The entry with its plan's scratch buffers and output shapes cut to one element (its
    digest left as it was: the entry is damaged, not re-signed)."""
    meta = json.loads(raw[start : start + meta_length])
    plan = json.loads(meta["attachment"])
    for step in plan["steps"]:
        for spec in step.get("inputs", []):
            if spec.get("size"):
                spec["size"] = {"fixed": 1}
        for spec in step.get("outputs", []):
            spec["shape"] = [1 for _ in spec.get("shape", [])]
    meta["attachment"] = json.dumps(plan)
    encoded = json.dumps(meta).encode()
    header = raw[: len(jit._MAGIC) + 32] + struct.pack("<Q", len(encoded)) + raw[start - 8 : start]
    return header + encoded + raw[start + meta_length :]


def write(name: str, raw: bytes | str) -> Callable[[Path], None]:
    def edit(save: Path) -> None:
        path = save / name
        if isinstance(raw, str):
            path.write_text(raw)
        else:
            path.write_bytes(raw)

    return edit


def sealed(edit: Callable[[Path], None]) -> Callable[[Path], None]:
    def both(save: Path) -> None:
        edit(save)
        reseal(save)

    return both


def signed(edit: Callable[[Path], None], name: str = "") -> Callable[[Path], None]:
    """Sign the save (as its owner), then edit it and reseal it without the key (the
    signature kept), unless the edit is of the checksums themselves."""

    def both(save: Path) -> None:
        reseal(save, KEY)
        mac = json.loads((save / "checksums.json").read_text())["hmac_sha256"]
        edit(save)
        if name != "checksums.json":
            reseal(save)
            resealed = json.loads((save / "checksums.json").read_text())
            (save / "checksums.json").write_text(json.dumps({**resealed, "hmac_sha256": mac}))

    return both


def set_blob(name: str, data: np.ndarray | None) -> Callable[[Path], None]:
    def edit(save: Path) -> None:
        blobs = read_blobs(save)
        if data is None:
            del blobs[name]
        else:
            blobs[name] = data
        write_blobs(save, blobs)

    return edit


def edit_manifest(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def edit(save: Path) -> None:
        manifest = json.loads((save / "manifest.json").read_text())
        change(manifest)
        (save / "manifest.json").write_text(json.dumps(manifest))

    return edit


def marker_payload(saved: Saved) -> bytes:
    return pickle.dumps({"fn": WritesMarker(saved.save.parent / "marker"), "programs": {}})


# endregion


def run_children(cases: list[dict[str, Any]], where: Path) -> list[dict[str, Any]]:
    """Run the cases in child processes, a new one after each crash; every case's outcome
    (``crash`` with the exit code for the case a child died in)."""
    (where / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    outcomes: dict[int, dict[str, Any]] = {}
    first = 0
    while first < len(cases):
        try:
            done = subprocess.run(
                [sys.executable, str(CHILD), str(where / "cases.json"), str(first)],
                capture_output=True, text=True, env=env, timeout=600, check=False,
            )  # fmt: skip
            stdout, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired as expired:
            stdout, code = (expired.stdout or b"").decode(), "timeout"
        started = first
        for line in stdout.splitlines():
            if line.startswith("start "):
                started = int(line.split()[1])
            elif line.startswith("{"):
                result = json.loads(line)
                outcomes[result.pop("case")] = result
        if code == 0 and len(outcomes) >= len(cases) - first:
            break
        if started not in outcomes:
            outcomes[started] = {"outcome": "crash", "error": f"exit {code}: {done.stderr[-2000:]}"
                                 if code != "timeout" else "timeout"}  # fmt: skip
        first = started + 1
    return [outcomes.get(i, {"outcome": "not run"}) for i in range(len(cases))]


def test_no_tampered_save_or_cache_entry_crashes_or_gives_a_wrong_result(
    workspace: tuple[Path, dict[str, Saved]],
) -> None:
    root, saved = workspace
    rng = random.Random(13)
    cases: list[dict[str, Any]] = []
    attacks: list[Attack] = []
    for name, one in saved.items():
        others = [s for n, s in saved.items() if n != name]
        for attack in [*save_attacks(one, others, rng), *cache_attacks(one, others)]:
            index = len(cases)
            source = one.pickled if attack.pickled else one.save
            target = source
            if attack.edit is not None:
                target = root / "attacked" / f"{index}"
                shutil.copytree(source, target)
                attack.edit(target)
            case: dict[str, Any] = {
                "what": f"{name}: {attack.what}", "save": str(target), "trust": attack.pickled,
                "input": str(one.input), "expected": str(one.expected), "key": attack.key,
            }  # fmt: skip
            if attack.entry is not None:
                bytes_path = root / "entries" / f"{index}.wobj"
                bytes_path.parent.mkdir(exist_ok=True)
                bytes_path.write_bytes(attack.entry)
                case |= {"entry": str(one.entry), "entry_bytes": str(bytes_path)}
            cases.append(case)
            attacks.append(attack)
    env = {"WILLUMP_MLIR_CACHE_DIR": str(root / "cache")}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        outcomes = run_children(cases, root)
    wrong = []
    for case, attack, outcome in zip(cases, attacks, outcomes, strict=True):
        kind, error = outcome["outcome"], outcome.get("error", "")
        clear = kind == "error" and error.startswith("InputError") and case["save"] in error
        equal = kind == "equal"
        good = {
            "equal": equal, "error": clear, "error or equal": clear or equal,
            "error or a result": clear or kind in ("equal", "differs"),
        }[attack.expect]  # fmt: skip
        if not good:
            wrong.append(f"{case['what']}: {outcome}")
    assert not (root / "marker").exists(), "an attacked save ran a pickled payload"
    assert not wrong, f"{len(wrong)} of {len(cases)} attacks:\n" + "\n".join(wrong)
