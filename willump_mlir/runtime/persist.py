"""Saving and loading an ``OptimizedPipeline``: ``fast.save(path)`` and ``wm.load(path)``.

A save is a directory (format ``willump-mlir-optimized``, version 2) of these files:

``manifest.json``
    ``format``, ``version``, ``python`` (``"3.11"``: the pickle below is tied to it),
    ``function`` (its name), ``cascaded``, ``cascade_ir`` (whether ``cascade.mlir`` is
    there), ``settle`` (``[metric, threshold]`` or null), ``confidence``, ``report`` (the
    ``Report`` dataclasses as JSON objects), ``curve`` (the ``CandidateCurve`` fields or
    null), and ``programs``: for ``exact``, ``approx`` (a cascade's cheap program, or a top-K-only
    cheap scorer) and ``rest`` (a cascade's full program) when present, the
    ``arguments`` (``name``, ``kind``, ``type`` as IR text or null, ``columns``), the
    ``python_calls`` (``reason`` and ``source`` by callee), the names of its ``blobs``,
    ``returns_sparse`` and the frontend ``notes``.
``exact.mlir``, ``approx.mlir``, ``rest.mlir``
    Each program's pipeline IR (only the programs listed in the manifest).
``cascade.mlir``
    The scheduled cascade (``fast.ir("cascade")``), only with a cascade.
``blobs.npz``
    The programs' weights and tables by name (``np.savez``, no pickled arrays).
``objects.pkl``
    What is not text, pickled with cloudpickle: ``{"fn": the function, "programs": {name:
    {"bound": {argument: value}, "calls": {callee: function}}}}``. The function and other
    importable objects are stored by reference (their module must be importable when
    loading); the functions the tracer generates for the Python calls are stored by value.

``checksums.json``
    The SHA-256 of every other file (``files``), checked before anything else is read, and
    their HMAC-SHA256 under ``$WILLUMP_MLIR_SIGNING_KEY`` (``hmac_sha256``) if it was set
    at ``save``, else null.

``load`` parses the IR and compiles each program with ``compile_traced``: the IR text, and
so the cache key, is the one saved, so on a host whose object-code cache holds the
programs nothing is lowered or compiled by LLVM; elsewhere they are compiled once. Before
anything reaches native code, every blob is checked against the IR: the shape and dtype
its ``#pipeline.blob`` attribute gives, and the content hash its name ends with.

The bound arguments (fitted estimators) are the unpickled objects: a call must pass those
very objects, ``loaded.bound`` holds them by name.

Security: ``objects.pkl`` is a pickle, and unpickling runs code. ``load`` unpickles it
only if the caller passes ``trust=True``, or if ``$WILLUMP_MLIR_SIGNING_KEY`` is set and
the HMAC of ``checksums.json`` verifies under it; otherwise it raises ``InputError`` before
reading the pickle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.parser import Parser

from willump_mlir.api import compile_traced
from willump_mlir.compiler import context
from willump_mlir.dialects.pipeline import BlobAttr
from willump_mlir.frontend.params import blob_digest, blob_type
from willump_mlir.frontend.spec import ArgumentSpec, FrontendResult, PythonCall
from willump_mlir.runtime.compiled import CompiledPipeline
from willump_mlir.runtime.marshal import InputError
from willump_mlir.runtime.optimized import Candidate, GroupProfile, OptimizedPipeline, Report
from willump_mlir.stats.thresholds import ThresholdChoice
from willump_mlir.stats.topk import CandidateCurve

FORMAT = "willump-mlir-optimized"
VERSION = 3  # 2: a Python call returns the tuple of its results; 3: checksums.json
MANIFEST = "manifest.json"
BLOBS = "blobs.npz"
OBJECTS = "objects.pkl"
PROGRAMS = ("exact", "approx", "rest")
CASCADE = "cascade.mlir"
CHECKSUMS = "checksums.json"
FILES = frozenset({MANIFEST, BLOBS, OBJECTS, CASCADE, CHECKSUMS, *(f"{p}.mlir" for p in PROGRAMS)})
SIGNING_KEY = "WILLUMP_MLIR_SIGNING_KEY"


def _pickler() -> Any:
    import cloudpickle

    return cloudpickle


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


# region Saving


def save(fast: OptimizedPipeline, path: str | os.PathLike[str]) -> None:
    """Write ``fast`` to the directory ``path`` (see the module docstring for the format).

    ``path`` may be absent, an empty directory or a previous save (replaced as a whole);
    anything else raises ``FileExistsError``. An object that cannot be pickled raises
    ``TypeError`` naming it.
    """
    target = Path(path)
    _check_target(target)
    programs = _programs(fast)
    objects = _dump_objects(fast, programs)
    blobs: dict[str, np.ndarray] = {}
    for compiled in programs.values():
        blobs.update(compiled.traced.blobs)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "python": _python(),
        "function": fast.__name__,
        "cascaded": fast.cascaded,
        "cascade_ir": fast.cascade_ir is not None,
        "settle": None if fast.settle is None else list(fast.settle),
        "confidence": fast.confidence,
        "report": dataclasses.asdict(fast._report),
        "curve": None if fast.curve is None else dataclasses.asdict(fast.curve),
        "programs": {name: _program_manifest(c) for name, c in programs.items()},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    staging.mkdir()  # not mkdtemp: the save gets the usual permissions
    try:
        text = json.dumps(manifest, indent=2, default=_json_default)
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        for name, compiled in programs.items():
            (staging / f"{name}.mlir").write_text(str(compiled.traced.module), encoding="utf-8")
        if fast.cascade_ir is not None:
            (staging / CASCADE).write_text(fast.cascade_ir, encoding="utf-8")
        _write_blobs(staging / BLOBS, blobs)
        (staging / OBJECTS).write_bytes(objects)
        checksums = _checksums(staging, os.environ.get(SIGNING_KEY))
        (staging / CHECKSUMS).write_text(json.dumps(checksums, indent=2), encoding="utf-8")
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_target(target: Path) -> None:
    """Refuse to overwrite anything but an empty directory or a previous save."""
    if not target.exists():
        return
    if not target.is_dir():
        raise FileExistsError(f"cannot save to {target}: it exists and is not a directory")
    entries = set(os.listdir(target))
    if not entries:
        return
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        previous = isinstance(manifest, dict) and manifest.get("format") == FORMAT
    except (OSError, ValueError):
        previous = False
    if not previous or not entries <= FILES:
        raise FileExistsError(
            f"cannot save to {target}: the directory exists and is not a willump-mlir save "
            "(saving only replaces an empty directory or a previous save)"
        )


def _replace(staging: Path, target: Path) -> None:
    """Move the written ``staging`` directory to ``target``, replacing a previous save."""
    if not target.exists():
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, old / "save")
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(old / "save", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _programs(fast: OptimizedPipeline) -> dict[str, CompiledPipeline]:
    found = {"exact": fast.exact, "approx": fast.approx, "rest": fast.rest}
    return {name: compiled for name, compiled in found.items() if compiled is not None}


def _program_manifest(compiled: CompiledPipeline) -> dict[str, Any]:
    traced = compiled.traced
    return {
        "arguments": [
            {
                "name": a.name,
                "kind": a.kind,
                "type": None if a.type is None else str(a.type),
                "columns": a.columns,
                "dtypes": a.dtypes,
                "bools": a.bools,
            }
            for a in traced.arguments
        ],
        "python_calls": {
            name: {"reason": call.reason, "source": call.source, "wraps": call.wraps}
            for name, call in traced.python_calls.items()
        },
        "blobs": sorted(traced.blobs),
        "returns_sparse": traced.returns_sparse,
        "notes": list(traced.notes),
    }


def _json_default(value: object) -> object:
    """numpy scalars (counts, group indices) as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to {MANIFEST}: {value!r}")


def _write_blobs(path: Path, blobs: dict[str, np.ndarray]) -> None:
    for name, array in blobs.items():
        if np.asarray(array).dtype.hasobject:
            raise TypeError(f"cannot save blob {name!r}: it holds Python objects")
    with path.open("wb") as file:
        np.savez(file, **{name: np.asarray(a) for name, a in blobs.items()})


def _dump_objects(fast: OptimizedPipeline, programs: dict[str, CompiledPipeline]) -> bytes:
    """One pickle of the function, bound values and Python calls (so shared objects stay
    shared); on failure, a ``TypeError`` naming the first object that cannot be pickled."""
    objects = {
        "fn": fast.fn,
        "programs": {
            name: {
                "bound": {a.name: a.value for a in c.arguments if a.kind == "bound"},
                "calls": {n: call.function for n, call in c.traced.python_calls.items()},
            }
            for name, c in programs.items()
        },
    }
    cloudpickle = _pickler()
    try:
        return bytes(cloudpickle.dumps(objects, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as error:
        failing, cause = _unpicklable(fast, programs) or ("the pipeline's objects", error)
        raise TypeError(
            f"cannot save {failing}: it cannot be pickled ({type(cause).__name__}: {cause}). "
            "A save pickles the function, its bound arguments and the code that runs in "
            "Python; move code that uses unpicklable objects (locks, open files, "
            "connections, lambdas over them) into a module-level function"
        ) from error


def _unpicklable(
    fast: OptimizedPipeline, programs: dict[str, CompiledPipeline]
) -> tuple[str, Exception] | None:
    """The first of the saved objects that cannot be pickled alone, and why."""
    labelled: list[tuple[str, object]] = [(f"the function {fast.__name__!r}", fast.fn)]
    for c in programs.values():
        labelled += [
            (f"the bound argument {a.name!r}", a.value) for a in c.arguments if a.kind == "bound"
        ]
        labelled += [
            (f"the Python call {n} (`{call.source}`)", call.function)
            for n, call in c.traced.python_calls.items()
        ]
    cloudpickle = _pickler()
    for label, value in labelled:
        try:
            cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            return label, error
    return None


def _file_hashes(root: Path) -> dict[str, str]:
    """The SHA-256 of every file of a save but its checksums, by name."""
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in sorted(os.listdir(root))
        if name != CHECKSUMS
    }


def _mac(files: dict[str, str], key: str) -> str:
    message = json.dumps(files, sort_keys=True).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _checksums(root: Path, key: str | None) -> dict[str, Any]:
    """Every file's SHA-256, and their HMAC-SHA256 under ``key`` when there is one."""
    files = _file_hashes(root)
    return {"files": files, "hmac_sha256": _mac(files, key) if key else None}


# endregion
# region Loading


def load(path: str | os.PathLike[str], *, trust: bool = False) -> OptimizedPipeline:
    """The ``OptimizedPipeline`` saved at ``path``; ``InputError`` if it is not a readable
    save, or if it is not trusted: its pickled objects are unpickled, which runs code, only
    with ``trust=True`` or a signature that verifies under ``$WILLUMP_MLIR_SIGNING_KEY``."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: no willump-mlir save there (not a directory)")
    manifest = _read_manifest(root)
    listed = manifest.get("programs")
    names = [n for n in PROGRAMS if isinstance(listed, dict) and n in listed] or ["exact"]
    needed = [MANIFEST, BLOBS, OBJECTS, *(f"{n}.mlir" for n in names)]
    with_ir = bool(manifest.get("cascade_ir"))
    needed += [CASCADE] if with_ir else []
    missing = [name for name in needed if not (root / name).is_file()]
    if missing:
        raise InputError(f"{root}: incomplete willump-mlir save, missing {', '.join(missing)}")
    _check_trusted(root, _check_files(root), trust)
    blobs = _read_blobs(root / BLOBS)
    objects = _read_objects(root / OBJECTS)
    ctx = context()
    try:
        traced = {
            name: _frontend_result(
                ctx,
                manifest["programs"][name],
                objects["programs"][name],
                blobs,
                _read_module(ctx, root / f"{name}.mlir"),
                root,
            )
            for name in names
        }
        report = _read_report(manifest["report"])
        curve = manifest["curve"]
        settle = manifest["settle"]
        confidence = float(manifest["confidence"])
        if curve is not None:
            curve = CandidateCurve(
                tuple(curve["ratios"]),
                tuple(curve["k_fractions"]),
                curve["precision"],
                curve["confidence"],
            )
        if settle is not None:
            settle = (str(settle[0]), float(settle[1]))
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise InputError(
            f"{root}: damaged willump-mlir save ({type(error).__name__}: {error})"
        ) from error
    fn = objects["fn"]
    programs = {name: compile_traced(fn, t) for name, t in traced.items()}
    cascade_ir = (root / CASCADE).read_text(encoding="utf-8") if with_ir else None
    return OptimizedPipeline(
        fn,
        programs["exact"],
        programs.get("approx"),
        programs.get("rest"),
        cascade_ir,
        settle,
        report,
        curve,
        confidence,
    )


def _frontend_result(
    ctx: Context,
    spec: dict[str, Any],
    stored: dict[str, Any],
    blobs: dict[str, np.ndarray],
    module: ModuleOp,
    root: Path,
) -> FrontendResult:
    """One program's ``FrontendResult`` from its manifest entry and its pickled objects."""
    own = {name: blobs[name] for name in spec["blobs"]}
    _check_blobs(module, own, root / BLOBS)
    arguments = [
        ArgumentSpec(
            a["name"],
            a["kind"],
            None if a["type"] is None else Parser(ctx, a["type"]).parse_attribute(),
            stored["bound"][a["name"]] if a["kind"] == "bound" else None,
            None if a["columns"] is None else [(str(n), str(k)) for n, k in a["columns"]],
            a.get("dtypes"),
            a.get("bools"),
        )
        for a in spec["arguments"]
    ]
    calls = {
        callee: PythonCall(
            callee, stored["calls"][callee], c["reason"], c["source"], bool(c["wraps"])
        )
        for callee, c in spec["python_calls"].items()
    }
    return FrontendResult(
        module=module,
        blobs=own,
        arguments=arguments,
        python_calls=calls,
        returns_sparse=bool(spec["returns_sparse"]),
        notes=[str(note) for note in spec["notes"]],
    )


def _check_files(root: Path) -> dict[str, Any]:
    """The save's checksums, once every file matches them (``InputError`` naming the files
    that do not: damaged, edited, added or removed since the save)."""
    try:
        checksums = json.loads((root / CHECKSUMS).read_text(encoding="utf-8"))
        files = checksums["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise TypeError("files is not a map of names to digests")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{root / CHECKSUMS}: unreadable checksums ({error})") from error
    present = _file_hashes(root)
    changed = sorted(
        name for name in set(files) | set(present) if files.get(name) != present.get(name)
    )
    if changed:
        raise InputError(
            f"{root}: damaged or edited save: {', '.join(changed)} changed since it was saved "
            f"(they do not match {CHECKSUMS})"
        )
    return checksums


def _check_trusted(root: Path, checksums: dict[str, Any], trust: bool) -> None:
    """Return if the save may be unpickled: ``trust``, or an HMAC that verifies."""
    if trust:
        return
    key = os.environ.get(SIGNING_KEY)
    if not key:
        raise InputError(
            f"{root}: not loaded, because it holds pickled Python objects ({OBJECTS}: the "
            "function, its estimators and Python calls) and unpickling runs code. Load "
            "only saves you trust: pass trust=True, or set $WILLUMP_MLIR_SIGNING_KEY when "
            "saving and when loading, so that load checks the save's signature"
        )
    mac = checksums.get("hmac_sha256")
    if not isinstance(mac, str):
        raise InputError(
            f"{root}: not loaded: $WILLUMP_MLIR_SIGNING_KEY is set but the save is not "
            "signed; save it again with the key set, or pass trust=True"
        )
    if not hmac.compare_digest(mac, _mac(checksums["files"], key)):
        raise InputError(
            f"{root}: not loaded: its signature ({CHECKSUMS}) does not verify under "
            "$WILLUMP_MLIR_SIGNING_KEY (signed with another key, or edited)"
        )


def _check_blobs(module: ModuleOp, blobs: dict[str, np.ndarray], where: Path) -> None:
    """Every blob is the array its symbol's content hash names, and every ``#pipeline.blob``
    of the IR names a blob of the shape and dtype it gives: native code indexes blobs by
    the IR's types, so a damaged blob must never reach it."""
    for name, data in blobs.items():
        if not name.endswith("_" + blob_digest(np.ascontiguousarray(data))):
            raise InputError(f"{where}: blob {name!r} does not hold the data its name hashes")
    for attr in _blob_attributes(module):
        data = blobs.get(attr.symbol.data)
        if data is None:
            raise InputError(f"{where}: the IR uses blob {attr.symbol.data!r}, which is absent")
        try:
            same = blob_type(data) == attr.type
        except KeyError:
            same = False
        if not same:
            raise InputError(
                f"{where}: blob {attr.symbol.data!r} is {data.dtype}{list(data.shape)}, the "
                f"IR reads it as {attr.type}"
            )


def _blob_attributes(module: ModuleOp) -> list[BlobAttr]:
    """The ``#pipeline.blob`` attributes of every op, nested ones included."""
    found: list[BlobAttr] = []

    def visit(attr: Attribute) -> None:
        if isinstance(attr, BlobAttr):
            found.append(attr)
        elif isinstance(attr, ParametrizedAttribute):
            for child in attr.parameters:
                visit(child)
        elif isinstance(attr, ArrayAttr):
            for child in attr.data:
                visit(child)
        elif isinstance(attr, DictionaryAttr):
            for child in attr.data.values():
                visit(child)

    for op in module.walk():
        for attr in (*op.properties.values(), *op.attributes.values()):
            visit(attr)
    return found


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{root}: not a willump-mlir save (no {MANIFEST})") from None
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path}: not a willump-mlir save (format is not {FORMAT!r})")
    if manifest.get("version") != VERSION:
        raise InputError(
            f"{path}: save format version {manifest.get('version')!r}, this willump-mlir "
            f"reads version {VERSION}; save the pipeline again with this version"
        )
    if manifest.get("python") != _python():
        raise InputError(
            f"{path}: saved under Python {manifest.get('python')}, this is {_python()}; the "
            "pickled functions depend on the Python version, so save again under this one"
        )
    return manifest


def _read_blobs(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable blobs ({error})") from error


def _read_objects(path: Path) -> dict[str, Any]:
    _pickler()  # by-value functions are rebuilt by cloudpickle's helpers
    try:
        with path.open("rb") as file:
            objects = pickle.load(file)  # noqa: S301 - documented: only trusted saves
    except Exception as error:  # an import, attribute or unpickling error
        raise InputError(
            f"{path}: cannot unpickle the saved objects ({type(error).__name__}: {error}); "
            "the function's module and the estimators' packages must be importable"
        ) from error
    if not isinstance(objects, dict) or "fn" not in objects or "programs" not in objects:
        raise InputError(f"{path}: damaged willump-mlir save (unexpected pickle content)")
    return objects


def _read_module(ctx: Context, path: Path) -> ModuleOp:
    try:
        return Parser(ctx, path.read_text(encoding="utf-8"), str(path)).parse_module()
    except Exception as error:  # xDSL's ParseError, or a verifier's error
        raise InputError(f"{path}: cannot parse the pipeline IR ({error})") from error


def _read_report(data: dict[str, Any]) -> Report:
    candidates = [_candidate(c) for c in data["candidates"]]
    chosen = None if data["chosen"] is None else _candidate(data["chosen"])
    chosen = next((c for c in candidates if c == chosen), chosen)  # the same object again
    certified = data["certified"]
    return Report(
        groups=[GroupProfile(**g) for g in data["groups"]],
        candidates=candidates,
        reason=data["reason"],
        full_cost=data["full_cost"],
        chosen=chosen,
        certified=None if certified is None else ThresholdChoice(**certified),
        speedup=data["speedup"],
        calls=dict(data["calls"]),
    )


def _candidate(data: dict[str, Any]) -> Candidate:
    return Candidate(**{**data, "groups": tuple(data["groups"])})


# endregion
