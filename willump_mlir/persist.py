"""Saving and loading pipelines: ``compiled.save(path)``, ``fast.save(path)``, ``wm.load(path)``.

A save is a directory (format ``willump-mlir``, version 5) of these files:

``manifest.json``
    ``format``, ``version``, ``python`` (``"3.11"``: a pickle is tied to it), ``pipeline``
    (``"compiled"`` for a ``CompiledPipeline``, ``"optimized"`` for an ``OptimizedPipeline``),
    ``pickled`` (whether ``objects.pkl`` is part of the save), ``function`` (its name),
    ``doc`` (its docstring or null; absent from older saves), and
    ``programs``: for ``exact``, ``approx`` (a cascade's cheap program, or a top-K-only
    cheap scorer) and ``rest`` (a cascade's full program) when present, the
    ``arguments`` (``name``, ``kind``, ``type`` as IR text or null, ``columns``, and for a
    bound argument the ``class`` of its value, for messages), the ``python_calls``
    (``reason`` and ``source`` by callee), the names of its ``blobs``, ``returns_sparse``,
    the frontend ``notes``, the ``passes`` it runs with options of its own (their
    ``willump-opt -p`` specs, e.g. ``choose-tree-layout{layout="nodes"}``: ``wm.compile``'s
    ``tree_layout``; absent: none) and ``original_reason`` (why its calls run the original
    function, ``willump_mlir.native_work``, or null; absent from older saves: only
    ``unpickle`` reads it, ``load`` finds it in the IR). An optimized pipeline's also has
    ``cascaded``, ``cascade_ir`` (whether ``cascade.mlir`` is there), ``settle``
    (``[metric, threshold]`` or null), ``confidence``, ``report`` (the ``Report``
    dataclasses as JSON objects) and ``curve`` (the ``CandidateCurve`` fields or null).
``exact.mlir``, ``approx.mlir``, ``rest.mlir``
    Each program's pipeline IR (only the programs listed in the manifest).
``cascade.mlir``
    The scheduled cascade (``fast.ir("cascade")``), only with a cascade.
``blobs.npz``
    The programs' weights and tables by name (an ``np.savez`` archive, no pickled arrays),
    stored as they are (read in place); in the save a pickle carries, those no machine code
    reads are deflated (``portable``), inflated when first read.
``objects.pkl``
    Only in a pickled save. What is not text, pickled with cloudpickle: ``{"fn": the
    function, "programs": {name: {"bound": {argument: value}, "calls": {callee:
    function}}}}``. The function and other importable objects are stored by reference
    (their module must be importable when loading); the functions the tracer generates for
    the Python calls are stored by value.
``checksums.json``
    The SHA-256 of every other file (``files``), checked before anything else is read, and
    their HMAC-SHA256 under ``$WILLUMP_MLIR_SIGNING_KEY`` (``hmac_sha256``) if it was set
    at ``save``, else null.

A pipeline whose programs make no Python calls is saved without ``objects.pkl`` unless
``save`` is asked to pickle (``pickle=True``): its estimators' parameters are compiled into
the IR and the blobs, so nothing but text, JSON and plain arrays is needed to run it, and
loading it executes nothing from the save (no trust or signature is asked for). Such a
loaded pipeline is called with the data arguments only (``loaded(frame)``); its bound
arguments are ``CompiledIn`` markers (``loaded.bound``, for an optimized pipeline), which a
call may also pass, and any other value for them is refused. It has no original function
to fall back on: an input the compiled code hands back to Python (an empty batch, a row
whose exact result native code does not model) raises ``InputError`` saying so.

``load`` parses the IR and compiles each program with ``compile_traced``: the IR text, and
so the cache key, is the one saved, so on a host whose object-code cache holds the
programs nothing is lowered or compiled by LLVM; elsewhere they are compiled once. The run
plan (scratch sizes included) comes with the code, never from the save. Before
anything reaches native code, every blob is checked against the IR: the shape and dtype
its ``#pipeline.blob`` attribute gives, and the content hash its name ends with.

In a pickled save, the bound arguments (fitted estimators) are the unpickled objects: a
call passes those very objects (``loaded.bound`` holds them by name) or leaves them out.

Security: ``objects.pkl`` is a pickle, and unpickling runs code. ``load`` unpickles it
only if the caller passes ``trust=True``, or if ``$WILLUMP_MLIR_SIGNING_KEY`` is set and
the HMAC of ``checksums.json`` verifies under it; otherwise it raises ``InputError`` before
reading the pickle. While the key is set, a save without a pickle must verify too (or be
loaded with ``trust=True``): its checksums alone find damage, not edits, and its IR is the
program that runs.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import io
import json
import math
import os
import pickle
import shutil
import struct
import sys
import tempfile
import threading
import uuid
import weakref
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsIndex

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute
from xdsl.parser import Parser
from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import parse_spec
from xdsl.utils.exceptions import ArgSpecParseError
from xdsl.utils.lexer import Token
from xdsl.utils.mlir_lexer import MLIRTokenKind, StringLiteral

from willump_mlir.api import compile_traced, compiler_fingerprint
from willump_mlir.blobs import BlobError, BlobStore, blob_attributes
from willump_mlir.compiler import STAGE_PASSES, context
from willump_mlir.dialects.pipeline import PythonCallOp
from willump_mlir.frontend.spec import ArgumentSpec, FrontendResult, PythonCall, ValueSpec
from willump_mlir.frontend.types import frame_type, text_type
from willump_mlir.native_work import nothing_native_to_run
from willump_mlir.pipelines import CompiledPipeline, OptimizedPipeline
from willump_mlir.runtime import jit
from willump_mlir.runtime.marshal import InputError
from willump_mlir.runtime.optimized import Candidate, GroupProfile, Report
from willump_mlir.runtime.pickled import PickledObjects, Unpickled
from willump_mlir.stats.thresholds import ThresholdChoice
from willump_mlir.stats.topk import CandidateCurve

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

FORMAT = "willump-mlir"
FORMERLY = "willump-mlir-optimized"  # versions 1 to 3: optimized pipelines only
VERSION = 5  # 2: a Python call returns the tuple of its results; 3: checksums.json;
# 4: compiled pipelines, saves without a pickle; 5: blob symbols are resource handles
MANIFEST = "manifest.json"
BLOBS = "blobs.npz"
OBJECTS = "objects.pkl"
PROGRAMS = ("exact", "approx", "rest")
CASCADE = "cascade.mlir"
CHECKSUMS = "checksums.json"
FILES = frozenset({MANIFEST, BLOBS, OBJECTS, CASCADE, CHECKSUMS, *(f"{p}.mlir" for p in PROGRAMS)})
SIGNING_KEY = "WILLUMP_MLIR_SIGNING_KEY"
#: a blob as ``_read_blobs`` gives it: the array, or a function that inflates it
Blob = np.ndarray | Callable[[], np.ndarray]


def _pickler() -> Any:
    import cloudpickle

    return cloudpickle


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class CompiledIn:
    """A bound argument of a pipeline loaded from a save without a pickle: the estimator or
    constant itself is not there, its parameters are compiled in. A call leaves it out or
    passes this marker."""

    name: str
    kind: str  # the saved value's class, ``module.qualname``

    def __repr__(self) -> str:
        return f"<{self.name}: a {self.kind}, compiled in>"


def _without_original(name: str, doc: str | None) -> Callable[..., Any]:
    """The stand-in for the original function of a pipeline saved without a pickle."""

    def original(*args: Any, **kwargs: Any) -> Any:
        raise InputError(
            f"{name!r} was loaded from a save without Python objects, and the compiled code "
            "hands this input back to the original function, which the save does not hold; "
            "save the pipeline with pickle=True (and load it trusted) to keep it"
        )

    original.__name__ = original.__qualname__ = name
    original.__doc__ = doc
    return original


def _kind(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


# region Saving


def save(
    pipeline: CompiledPipeline | OptimizedPipeline,
    path: str | os.PathLike[str],
    *,
    pickle: bool = False,
    deflate: Collection[str] = (),
) -> None:
    """Write ``pipeline`` to the directory ``path`` (see the module docstring for the format).

    Its function, estimators and Python calls are pickled (``objects.pkl``) if a program
    makes Python calls or if ``pickle`` is true; else the save holds no pickle. The blobs
    named in ``deflate`` are deflated in ``blobs.npz`` (``portable``). ``path``
    may be absent, an empty directory or a previous save (replaced as a whole); anything
    else raises ``FileExistsError``. An object that cannot be pickled raises ``TypeError``
    naming it.
    """
    target = Path(path)
    _check_target(target)
    programs = _programs(pipeline)
    pickled = pickle or any(_callees(c.traced.module) for c in programs.values())
    compiled_in = [
        a.name
        for c in programs.values()
        for a in c.arguments
        if a.kind == "bound" and isinstance(a.value, CompiledIn)
    ]
    if pickled and compiled_in:
        raise TypeError(
            f"cannot pickle {pipeline.__name__!r}: it was loaded from a save without Python "
            f"objects, and its function and bound arguments ({', '.join(compiled_in)}) are "
            "not there"
        )
    objects = _dump_objects(pipeline, programs) if pickled else None
    blobs: dict[str, np.ndarray] = {}
    for compiled in programs.values():
        blobs.update(compiled.traced.blobs)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "python": _python(),
        "pipeline": "optimized" if isinstance(pipeline, OptimizedPipeline) else "compiled",
        "pickled": pickled,
        "function": pipeline.__name__,
        "doc": pipeline.__doc__,
        "programs": {name: _program_manifest(c) for name, c in programs.items()},
    }
    if isinstance(pipeline, OptimizedPipeline):
        manifest |= {
            "cascaded": pipeline.cascaded,
            "cascade_ir": pipeline.cascade_ir is not None,
            "settle": None if pipeline.settle is None else list(pipeline.settle),
            "confidence": pipeline.confidence,
            "report": dataclasses.asdict(pipeline.findings),
            "curve": None if pipeline.curve is None else dataclasses.asdict(pipeline.curve),
        }
    cascade_ir = pipeline.cascade_ir if isinstance(pipeline, OptimizedPipeline) else None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    staging.mkdir()  # not mkdtemp: the save gets the usual permissions
    try:
        text = json.dumps(manifest, indent=2, default=_json_default)
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        for name, compiled in programs.items():
            (staging / f"{name}.mlir").write_text(str(compiled.traced.module), encoding="utf-8")
        if cascade_ir is not None:
            (staging / CASCADE).write_text(cascade_ir, encoding="utf-8")
        _write_blobs(staging / BLOBS, blobs, deflate)
        if objects is not None:
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
        previous = isinstance(manifest, dict) and manifest.get("format") in (FORMAT, FORMERLY)
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


def _programs(pipeline: CompiledPipeline | OptimizedPipeline) -> dict[str, CompiledPipeline]:
    if isinstance(pipeline, CompiledPipeline):
        return {"exact": pipeline}
    found = {"exact": pipeline.exact, "approx": pipeline.approx, "rest": pipeline.rest}
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
                **({"class": _bound_kind(a.value)} if a.kind == "bound" else {}),
                "dtypes": a.dtypes,
                "bools": a.bools,
                "ordered": a.ordered,
                "named": a.named,
                "unused": a.unused,
                "nonempty": a.nonempty,
                "example": None if a.example is None else a.example.to_json(),
            }
            for a in traced.arguments
        ],
        "python_calls": {
            name: {"reason": call.reason, "source": call.source, "wraps": call.wraps}
            for name, call in traced.python_calls.items()
            if name in _callees(traced.module)  # a cascade's program may use fewer
        },
        "blobs": sorted(traced.blobs),
        "returns_sparse": traced.returns_sparse,
        "result": None if traced.result is None else traced.result.to_json(),
        "notes": list(traced.notes),
        "passes": [str(p.pipeline_pass_spec()) for p in compiled.staged.passes.values()],
        "original_reason": compiled.original_reason,
    }


def _bound_kind(value: object) -> str:
    return value.kind if isinstance(value, CompiledIn | Unpickled) else _kind(value)


def _json_default(value: object) -> object:
    """numpy scalars (counts, group indices) as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to {MANIFEST}: {value!r}")


def _write_blobs(path: Path, blobs: dict[str, np.ndarray], deflate: Collection[str]) -> None:
    """``blobs`` as ``np.savez`` writes them (``<name>.npy`` members), those named in
    ``deflate`` deflated (zlib level 1: made once per pipeline, inflated only if needed),
    the others stored as they are, to be read in place (``_read_blobs``)."""
    for name, array in blobs.items():
        if np.asarray(array).dtype.hasobject:
            raise TypeError(f"cannot save blob {name!r}: it holds Python objects")
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for name, array in blobs.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            packed = name in deflate
            archive.writestr(
                zipfile.ZipInfo(f"{name}.npy", (1980, 1, 1, 0, 0, 0)),
                member.getvalue(),
                zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED,
                1 if packed else None,
            )


def _dump_objects(
    pipeline: CompiledPipeline | OptimizedPipeline, programs: dict[str, CompiledPipeline]
) -> bytes:
    """One pickle of the function, bound values and Python calls (so shared objects stay
    shared); on failure, a ``TypeError`` naming the first object that cannot be pickled.
    Those of an unpickled pipeline that are still pickled are that pickle again."""
    exact = programs["exact"]
    if exact.pickled is not None and not exact.pickled[0].loaded:
        return exact.pickled[0].raw
    for compiled in programs.values():
        compiled.load_objects()
    objects = {
        "fn": pipeline.fn,
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
        failing, cause = _unpicklable(pipeline, programs) or ("the pipeline's objects", error)
        raise TypeError(
            f"cannot save {failing}: it cannot be pickled ({type(cause).__name__}: {cause}). "
            "A save pickles the function, its bound arguments and the code that runs in "
            "Python; move code that uses unpicklable objects (locks, open files, "
            "connections, lambdas over them) into a module-level function"
        ) from error


def _unpicklable(
    pipeline: CompiledPipeline | OptimizedPipeline, programs: dict[str, CompiledPipeline]
) -> tuple[str, Exception] | None:
    """The first of the saved objects that cannot be pickled alone, and why."""
    labelled: list[tuple[str, object]] = [(f"the function {pipeline.__name__!r}", pipeline.fn)]
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


def _file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    """The SHA-256 of every file of a save but its checksums, by name."""
    return {
        name: hashlib.sha256(data).hexdigest()
        for name, data in sorted(files.items())
        if name != CHECKSUMS
    }


def _read_files(root: Path) -> dict[str, bytes]:
    """Every file of the save directory ``root``, by name (a save is flat)."""
    files = {}
    for path in sorted(root.iterdir()):
        try:
            files[path.name] = path.read_bytes()
        except OSError as error:  # a directory in a save, an unreadable file
            raise InputError(f"{path}: unreadable file in a willump-mlir save ({error})") from error
    return files


def _mac(files: dict[str, str], key: str) -> str:
    message = json.dumps(files, sort_keys=True).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _checksums(root: Path, key: str | None) -> dict[str, Any]:
    """Every file's SHA-256, and their HMAC-SHA256 under ``key`` when there is one."""
    files = _file_hashes(_read_files(root))
    return {"files": files, "hmac_sha256": _mac(files, key) if key else None}


# endregion
# region Loading


def load(
    path: str | os.PathLike[str], *, trust: bool = False
) -> CompiledPipeline | OptimizedPipeline:
    """The pipeline saved at ``path``, of the class that was saved; ``InputError`` if it is
    not a readable save, or if it is not trusted: a save with pickled objects is unpickled,
    which runs code, only with ``trust=True`` or a signature that verifies under
    ``$WILLUMP_MLIR_SIGNING_KEY``. A save without a pickle needs neither."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: no willump-mlir save there (not a directory)")
    return _load(root, _read_files(root), trust, {})


def _load(
    root: Path,
    files: dict[str, bytes],
    trust: bool,
    keys: dict[str, str],
    unpickled: bool = False,
) -> CompiledPipeline | OptimizedPipeline:
    """``load`` of the save ``files`` (by name; ``root`` names them in errors), with the cache
    keys of the programs whose entries are known to be in the object cache (``keys``, by
    program name; see ``compile_traced``).

    ``unpickled``: the save comes from a pickle (``unpickle``), which is trusted, so that
    the checks only find damage. Then each byte is hashed once: ``blobs.npz`` is checked
    blob by blob against the IR, not as a file too; and if no program makes Python calls,
    ``objects.pkl`` is left pickled (``willump_mlir.runtime.pickled``), its checksum checked
    when it is unpickled. And the IR of a program whose machine code came with the pickle
    (its key in ``keys``) is parsed only when something reads it (``_UnparsedIR``)."""
    manifest = _read_manifest(root, files)
    listed = manifest.get("programs")
    names = [n for n in PROGRAMS if isinstance(listed, dict) and n in listed] or ["exact"]
    if manifest.get("pipeline") not in ("compiled", "optimized"):
        raise InputError(f"{root / MANIFEST}: damaged willump-mlir save (no pipeline kind)")
    optimized = manifest.get("pipeline") == "optimized"
    pickled = manifest.get("pickled") is not False
    with_ir = optimized and bool(manifest.get("cascade_ir"))
    needed = [MANIFEST, BLOBS, *(f"{n}.mlir" for n in names)]
    needed += [OBJECTS] if pickled else []
    needed += [CASCADE] if with_ir else []
    missing = [name for name in needed if name not in files]
    if missing:
        raise InputError(f"{root}: incomplete willump-mlir save, missing {', '.join(missing)}")
    defer = unpickled and pickled and not _python_calls(manifest, names)
    unhashed = {BLOBS, *([OBJECTS] if defer else [])} if unpickled else set()
    checksums = _check_files(root, files, unhashed)
    if pickled or os.environ.get(SIGNING_KEY):  # with a key, every save must be signed
        _check_trusted(root, checksums, trust)
    elif OBJECTS in files:
        raise InputError(f"{root}: damaged willump-mlir save: {OBJECTS} in a save without one")
    blobs = _read_blobs(root / BLOBS, files[BLOBS])
    ctx = context()
    deferred = None
    try:
        if defer:
            deferred = _deferred(root, files[OBJECTS], checksums, manifest, names)
            objects = _stand_ins(root, manifest, names, Unpickled)
        elif pickled:
            objects = _read_objects(root / OBJECTS, files[OBJECTS])
        else:
            objects = _stand_ins(root, manifest, names, CompiledIn)
        traced = {
            name: _frontend_result(
                ctx,
                manifest["programs"][name],
                objects["programs"][name],
                blobs,
                functools.partial(_read_module, ctx, root / f"{name}.mlir", files[f"{name}.mlir"]),
                root,
                lazy=unpickled and name in keys and _known_reason(manifest["programs"][name]),
            )
            for name in names
        }
        if optimized:
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
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise InputError(
            f"{root / MANIFEST}: damaged willump-mlir save ({type(error).__name__}: {error})"
        ) from error
    fn = objects["fn"]
    programs = {}
    for name, program in traced.items():
        passes = _read_passes(manifest["programs"][name].get("passes", []), root / MANIFEST)
        try:
            programs[name] = compile_traced(fn, program, passes=passes, key=keys.get(name))
            if name == "exact" and pickled:  # only the exact program may call ``fn``
                programs[name].original_reason = (
                    manifest["programs"][name]["original_reason"]
                    if isinstance(program, _UnparsedIR)
                    else nothing_native_to_run(program)
                )
            if deferred is not None:
                programs[name].defer(deferred, name)
        except Exception as error:  # a lowering, verifier or LLVM error: the IR's
            raise InputError(
                f"{root / f'{name}.mlir'}: the pipeline IR does not compile "
                f"({type(error).__name__}: {error})"
            ) from error
    if not optimized:
        return programs["exact"]
    cascade_ir = files[CASCADE].decode("utf-8") if with_ir else None
    return OptimizedPipeline(
        programs["exact"],
        programs.get("approx"),
        programs.get("rest"),
        cascade_ir,
        settle,
        report,
        curve,
        confidence,
    )


def _python_calls(manifest: dict[str, Any], names: list[str]) -> bool:
    """Whether a program of the manifest makes Python calls (a damaged manifest: True)."""
    try:
        return any(manifest["programs"][name]["python_calls"] for name in names)
    except (KeyError, TypeError):
        return True


def _stand_ins(
    root: Path, manifest: dict[str, Any], names: list[str], marker: type[CompiledIn | Unpickled]
) -> dict[str, Any]:
    """What stands for the pickled objects of a save without a pickle (``CompiledIn``
    markers) or of an unpickled one whose objects stay pickled until needed (``Unpickled``
    markers): the original function's stand-in (never called for the latter, see
    ``NativeProgram.defer``), a marker for each bound argument (one per name, shared by
    the programs: an optimized pipeline passes the exact program's to the others), no
    Python calls."""
    programs = {}
    markers: dict[str, CompiledIn | Unpickled] = {}
    for name in names:
        spec = manifest["programs"][name]
        if spec["python_calls"]:
            raise InputError(
                f"{root / MANIFEST}: damaged willump-mlir save: program {name!r} makes "
                f"Python calls, and the save holds no {OBJECTS}"
            )
        bound = {
            a["name"]: markers.setdefault(a["name"], marker(str(a["name"]), str(a["class"])))
            for a in spec["arguments"]
            if a["kind"] == "bound"
        }
        programs[name] = {"bound": bound, "calls": {}}
    doc = manifest.get("doc")
    fn = _without_original(str(manifest["function"]), doc if isinstance(doc, str) else None)
    return {"fn": fn, "programs": programs}


def _known_reason(spec: dict[str, Any]) -> bool:
    """Whether a program's manifest says why its calls run the original function, if they
    do (``original_reason``: a string or null)."""
    return isinstance(spec.get("original_reason", 0), str | None)


class _UnparsedIR(FrontendResult):
    """A program of an unpickled pipeline whose machine code came with the pickle: its IR
    is parsed, and checked against its blobs and manifest, when something first reads
    ``module`` (``explain``, ``ir``, saving or pickling it, a recompile), not when the
    pipeline is unpickled (a third of the time it takes with the text pipeline). Its file
    is checked against its checksum when unpickling all the same (``_check_files``), and
    each blob against its name's content hash when first read: by the machine code (bound
    when unpickling), the parsed IR, or a save (``BlobStore.put_later``)."""

    _module: ModuleOp | None = None
    _parse: Callable[[], ModuleOp] | None = None
    _lock = threading.Lock()

    @property  # type: ignore[override]
    def module(self) -> ModuleOp:
        with self._lock:
            if self._module is None:
                assert self._parse is not None
                self._module, self._parse = self._parse(), None
            return self._module

    @module.setter
    def module(self, module: ModuleOp | None) -> None:  # dataclass ``__init__``, ``replace``
        self._module = module


def _frontend_result(
    ctx: Context,
    spec: dict[str, Any],
    stored: dict[str, Any],
    blobs: dict[str, Blob],
    read: Callable[[], ModuleOp],
    root: Path,
    lazy: bool = False,
) -> FrontendResult:
    """One program's ``FrontendResult`` from its manifest entry and its pickled objects, with
    the module ``read`` gives; read when first needed (``_UnparsedIR``) if ``lazy``."""
    absent = [name for name in spec["blobs"] if name not in blobs]
    if absent:
        raise InputError(f"{root / BLOBS}: blobs {absent} of the manifest are absent")
    own = BlobStore()
    try:  # each blob hashes to its name (checked when native code or the IR reads it)
        for name in spec["blobs"]:
            blob = blobs[name]
            if lazy:
                own.put_later(name, blob)
            else:
                own.put(name, blob() if callable(blob) else blob)
    except BlobError as error:
        raise InputError(f"{root / BLOBS}: {error}") from None
    arguments = [
        ArgumentSpec(
            a["name"],
            a["kind"],
            None if a["type"] is None else _IRParser(ctx, a["type"]).parse_attribute(),
            stored["bound"][a["name"]] if a["kind"] == "bound" else None,
            None if a["columns"] is None else [(str(n), str(k)) for n, k in a["columns"]],
            a.get("dtypes"),
            a.get("bools"),
            _value_spec(a.get("example")),
            bool(a.get("ordered", False)),
            a.get("named"),
            a.get("unused"),
            bool(a.get("nonempty", False)),
        )
        for a in spec["arguments"]
    ]
    calls = {
        callee: PythonCall(
            callee, stored["calls"][callee], c["reason"], c["source"], bool(c["wraps"])
        )
        for callee, c in spec["python_calls"].items()
    }

    def parse() -> ModuleOp:
        """The module, checked against the blobs and the manifest."""
        module = read()
        _check_blobs(module, own, root / BLOBS)
        _check_signature(module, arguments, calls, root)
        return module

    result = (_UnparsedIR if lazy else FrontendResult)(
        module=None if lazy else parse(),  # type: ignore[arg-type]
        blobs=own,
        arguments=arguments,
        python_calls=calls,
        returns_sparse=bool(spec["returns_sparse"]),
        notes=[str(note) for note in spec["notes"]],
        result=_value_spec(spec.get("result")),
    )
    if isinstance(result, _UnparsedIR):
        result._parse = parse
    return result


def _value_spec(data: Any) -> ValueSpec | None:
    """A ``ValueSpec`` of the manifest (absent from saves before serving: None)."""
    return None if data is None else ValueSpec.from_json(data)


def _check_signature(
    module: ModuleOp, arguments: list[ArgumentSpec], calls: dict[str, PythonCall], root: Path
) -> None:
    """The manifest's arguments are the IR function's, in order and of its types, and its
    Python calls are the IR's (what native code is handed must be what it was built for)."""
    function = module.body.block.first_op
    data = [a for a in arguments if a.kind != "bound"]
    if not isinstance(function, func.FuncOp) or [a.type for a in data] != list(
        function.function_type.inputs
    ):
        raise InputError(
            f"{root / MANIFEST}: damaged willump-mlir save: its data arguments are not those "
            "of the pipeline IR's function"
        )
    for a in data:  # each type is the one the frontend gives an argument of its kind
        expected: Attribute | None = None
        if a.kind == "frame" and a.columns is not None:
            expected = frame_type(a.columns)
        elif a.kind == "strings" and a.columns == [(a.name, "str")]:
            expected = text_type(a.name)
        elif a.kind == "array" and a.columns is None and isinstance(a.type, TensorType):
            expected = a.type
        if expected is None or expected != a.type:
            raise InputError(
                f"{root / MANIFEST}: damaged willump-mlir save: argument {a.name!r} of kind "
                f"{a.kind!r} does not match its type {a.type}"
            )
    callees = _callees(module)
    if callees != set(calls):
        raise InputError(
            f"{root / MANIFEST}: damaged willump-mlir save: its Python calls "
            f"{sorted(calls)} are not the IR's {sorted(callees)}"
        )


def _callees(module: ModuleOp) -> set[str]:
    """The Python calls the pipeline IR makes."""
    return {op.callee.data for op in module.walk() if isinstance(op, PythonCallOp)}


def _check_files(
    root: Path, files: dict[str, bytes], unhashed: set[str] | None = None
) -> dict[str, Any]:
    """The save's checksums, once every file matches them (``InputError`` naming the files
    that do not: damaged, edited, added or removed since the save). The files named in
    ``unhashed`` must be listed if present, and are checked otherwise (see ``_load``)."""
    try:
        checksums = json.loads(files[CHECKSUMS])
        listed = checksums["files"]
        if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
            raise TypeError("files is not a map of names to digests")
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{root / CHECKSUMS}: unreadable checksums ({error})") from error
    unhashed = unhashed or set()
    present = _file_hashes({name: data for name, data in files.items() if name not in unhashed})
    changed = [
        name
        for name in set(listed) | set(present)
        if name not in unhashed and listed.get(name) != present.get(name)
    ]
    changed += [name for name in unhashed if (name in listed) != (name in files)]
    if changed:
        raise _changed(root, changed)
    return checksums


def _changed(root: Path, names: list[str]) -> InputError:
    return InputError(
        f"{root}: damaged or edited save: {', '.join(sorted(names))} changed since it was "
        f"saved (they do not match {CHECKSUMS})"
    )


def _deferred(
    root: Path, raw: bytes, checksums: dict[str, Any], manifest: dict[str, Any], names: list[str]
) -> PickledObjects:
    """The objects of a pickled save, unpickled when first needed (``InputError`` then if
    they do not match their checksum or miss a bound argument of the manifest)."""
    digest = checksums["files"][OBJECTS]
    bound = {
        name: [a["name"] for a in manifest["programs"][name]["arguments"] if a["kind"] == "bound"]
        for name in names
    }

    def load(data: bytes) -> dict[str, Any]:
        if hashlib.sha256(data).hexdigest() != digest:
            raise _changed(root, [OBJECTS])
        objects = _read_objects(root / OBJECTS, data)
        try:
            missing = [
                f"{name}: {argument}"
                for name, arguments in bound.items()
                for argument in arguments
                if argument not in objects["programs"][name]["bound"]
            ]
        except (KeyError, TypeError) as error:
            missing = [f"{type(error).__name__}: {error}"]
        if missing:
            raise InputError(
                f"{root / OBJECTS}: damaged willump-mlir save (no bound arguments "
                f"{', '.join(missing)})"
            )
        return objects

    return PickledObjects(raw, load)


def _check_trusted(root: Path, checksums: dict[str, Any], trust: bool) -> None:
    """Return if the save may be unpickled: ``trust``, or an HMAC that verifies (which a
    save without a pickle needs too while ``$WILLUMP_MLIR_SIGNING_KEY`` is set)."""
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


def _check_blobs(module: ModuleOp, store: BlobStore, where: Path) -> None:
    """Every ``#pipeline.blob`` of the IR names a blob of ``store`` (each the array its
    symbol's content hash names) of the shape and dtype it gives: native code indexes blobs
    by the IR's types, so a damaged blob must never reach it."""
    try:
        for attr in blob_attributes(module):
            store.array(attr)
    except BlobError as error:
        raise InputError(f"{where}: {error}") from None


def _read_manifest(root: Path, files: dict[str, bytes]) -> dict[str, Any]:
    path = root / MANIFEST
    if MANIFEST not in files:
        raise InputError(f"{root}: not a willump-mlir save (no {MANIFEST})")
    try:
        manifest = json.loads(files[MANIFEST])
    except ValueError as error:
        raise InputError(f"{path}: unreadable manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") not in (FORMAT, FORMERLY):
        raise InputError(f"{path}: not a willump-mlir save (format is not {FORMAT!r})")
    if manifest.get("version") != VERSION:
        raise InputError(
            f"{path}: save format version {manifest.get('version')!r}, this willump-mlir "
            f"reads version {VERSION}; save the pipeline again with this version"
        )
    if manifest.get("pickled") is not False and manifest.get("python") != _python():
        raise InputError(
            f"{path}: saved under Python {manifest.get('python')}, this is {_python()}; the "
            "pickled functions depend on the Python version, so save again under this one"
        )
    return manifest


def _read_blobs(path: Path, data: bytes) -> dict[str, Blob]:
    """The arrays of ``blobs.npz`` (the bytes ``data``) by name: a stored member read in
    place, a read-only view of ``data``, not a copy; a deflated one (``_write_blobs``) as
    a function that inflates it (``BlobError`` if it is damaged). Their contents are
    checked against the IR (``_check_blobs``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
        return {
            info.filename.removesuffix(".npy"): (
                functools.partial(_inflate, data, info)
                if info.compress_type == zipfile.ZIP_DEFLATED
                else _npy_view(data, info)
            )
            for info in members
        }
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
        raise InputError(f"{path}: unreadable blobs ({error})") from error


def _inflate(data: bytes, info: zipfile.ZipInfo) -> np.ndarray:
    """The array of the deflated ``.npy`` member ``info`` of the zip archive ``data``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.read(info)  # checks its CRC-32
        return _npy_array(member, info.filename, 0, len(member))
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
        name = info.filename.removesuffix(".npy")
        raise BlobError(f"blob {name!r} cannot be read ({error})") from None


def _npy_view(data: bytes, info: zipfile.ZipInfo) -> np.ndarray:
    """The array of the stored ``.npy`` member ``info`` of the zip archive ``data``, in place."""
    if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
        raise ValueError(f"{info.filename} is not a stored or deflated .npy file")
    header = info.header_offset  # the local header: 30 bytes, the name, an extra field
    if data[header : header + 4] != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: no local file header")
    name_length, extra_length = struct.unpack_from("<HH", data, header + 26)
    start = header + 30 + name_length + extra_length
    return _npy_array(data, info.filename, start, start + info.compress_size)


def _npy_array(data: bytes, name: str, start: int, end: int) -> np.ndarray:
    """The array of the ``.npy`` file in ``data[start:end]`` (``name`` in errors), in place."""
    member = io.BytesIO(data)  # shares ``data``
    member.seek(start)
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"{name}: .npy format version {version}")
    count = math.prod(shape)
    if dtype.hasobject or min(shape, default=0) < 0:
        raise ValueError(f"{name}: an array of Python objects, or a negative shape")
    if member.tell() + count * dtype.itemsize > min(end, len(data)):
        raise ValueError(f"{name}: truncated")
    array = np.frombuffer(data, dtype, count, member.tell())
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _read_objects(path: Path, data: bytes) -> dict[str, Any]:
    _pickler()  # by-value functions are rebuilt by cloudpickle's helpers
    try:
        objects = pickle.loads(data)  # noqa: S301 - documented: only trusted saves
    except Exception as error:  # an import, attribute or unpickling error
        raise InputError(
            f"{path}: cannot unpickle the saved objects ({type(error).__name__}: {error}); "
            "the function's module and the estimators' packages must be importable"
        ) from error
    if not isinstance(objects, dict) or "fn" not in objects or "programs" not in objects:
        raise InputError(f"{path}: damaged willump-mlir save (unexpected pickle content)")
    return objects


class _IRParser(Parser):
    """xDSL's parser, reading back the string literals its printer writes: the printer
    escapes every byte past ASCII (``"prix_\\E2\\82\\AC"`` for ``"prix_€"``), which the
    lexer then takes for a bytes literal, not a string; a column name, a Python op's
    source or its reason holding any such character made a save (and a pickle) unreadable."""

    def _parse_optional_token(self, expected_kind: MLIRTokenKind) -> Token | None:
        token = self._current_token
        if expected_kind is MLIRTokenKind.STRING_LIT and token.kind is MLIRTokenKind.BYTES_LIT:
            try:
                StringLiteral.from_span(token.span).bytes_contents.decode("utf-8")
            except UnicodeDecodeError:
                return None
            self._consume_token()
            return Token(MLIRTokenKind.STRING_LIT, token.span)
        return super()._parse_optional_token(expected_kind)


def _read_module(ctx: Context, path: Path, data: bytes) -> ModuleOp:
    try:
        return _IRParser(ctx, data.decode("utf-8"), str(path)).parse_module()
    except Exception as error:  # xDSL's ParseError, or a verifier's error
        raise InputError(f"{path}: cannot parse the pipeline IR ({error})") from error


def _read_passes(specs: object, path: Path) -> dict[str, ModulePass]:
    """The passes with options of a program's manifest (``willump-opt -p`` specs of passes
    the compiler runs)."""
    registry = {cls.name: cls for stage in STAGE_PASSES.values() for cls in stage}
    passes = {}
    try:
        if not isinstance(specs, list):
            raise TypeError(f"passes must be a list, not {type(specs).__name__}")
        for text in specs:
            spec = parse_spec(str(text))
            passes[spec.name] = registry[spec.name].from_pass_spec(spec)
    except (ArgSpecParseError, KeyError, TypeError, ValueError) as error:
        raise InputError(
            f"{path}: damaged willump-mlir save (passes: {type(error).__name__}: {error})"
        ) from error
    return passes


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
# region Pickling

#: Pipelines unpickled in this process, by the digest of their pickled state (most recent
#: last): a worker that unpickles the same pipeline for every task rebuilds it once.
_UNPICKLED: OrderedDict[str, CompiledPipeline | OptimizedPipeline] = OrderedDict()
UNPICKLED_KEPT = 16
_UNPICKLED_LOCK = threading.Lock()
#: Each pipeline's pickled state, with the digest of the signing key it was signed under,
#: kept while the pipeline lives: a pipeline is fixed when it is compiled, so pickling it
#: again (each Ray Data job, each Dask graph) reuses its state where it cost ~70 ms and ~18
#: MB of copies (the text pipeline).
_PORTABLE: weakref.WeakKeyDictionary[Any, tuple[str, Portable]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Portable:
    """A pipeline as ``pickle`` carries it: the files of a pickled save (``files``), the
    object-cache entries of its programs by cache key (``entries``: machine code, run plan
    and the blobs passes created) and the target they were built for (``target``:
    ``jit.host_target()``, the CPU name and features, llvmlite and ABI versions), and each
    program's cache key (``keys``, by program name) under the compiler that made them
    (``compiler``: ``api.compiler_fingerprint()``)."""

    files: dict[str, Buffer]
    entries: dict[str, Buffer]
    target: str
    keys: dict[str, str]
    compiler: str

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Protocol 5 gives the pickler the files and entries as ``pickle.PickleBuffer``: one
        that keeps buffers out of band stores them apart (Ray, in its object store), and each
        task then reads them in place where it copied megabytes of blobs; they come back as
        read-only buffers there, as bytes from a plain pickle."""
        if int(protocol) < 5:
            return super().__reduce_ex__(protocol)
        files, entries = ({name: pickle.PickleBuffer(raw) for name, raw in part.items()}
                          for part in (self.files, self.entries))  # fmt: skip
        return Portable, (files, entries, self.target, self.keys, self.compiler)

    def digest(self) -> str:
        """The identity of the state: the digest of its checksums file, which lists every
        other file's (checked against them when it is loaded); hashing megabytes of blobs
        for every task would cost more than the rest of a warm unpickling."""
        return hashlib.sha256(self.files[CHECKSUMS]).hexdigest()


def portable(pipeline: CompiledPipeline | OptimizedPipeline) -> Portable:
    """What ``pickle.dumps(pipeline)`` carries (``__reduce__`` of both pipeline classes):
    made once per pipeline and signing key (``$WILLUMP_MLIR_SIGNING_KEY``), as a pipeline is
    fixed when it is compiled (its Dask token, the programs' cache keys, says so too)."""
    signer = hashlib.sha256(os.environ.get(SIGNING_KEY, "").encode()).hexdigest()
    with _UNPICKLED_LOCK:
        known = _PORTABLE.get(pipeline)
    if known is not None and known[0] == signer:
        return known[1]
    programs = _programs(pipeline)
    loaded_without_objects = any(
        isinstance(a.value, CompiledIn) for c in programs.values() for a in c.arguments
    )
    # the blobs no machine code reads (the IR's, which passes made tables of) are deflated:
    # fewer bytes for every unpickling to copy, inflated only if the IR is parsed or saved
    read = set().union(*(c.library.externals for c in programs.values()))
    unread = [name for c in programs.values() for name in c.traced.blobs if name not in read]
    with tempfile.TemporaryDirectory(prefix="willump-pickle-") as work:
        root = Path(work) / "save"
        save(pipeline, root, pickle=not loaded_without_objects, deflate=unread)
        files = _read_files(root)
    keys = {name: compiled.library.cache_key for name, compiled in programs.items()}
    entries = {key: raw for key in keys.values() if (raw := jit.cache_entry(key)) is not None}
    state = Portable(files, entries, jit.host_target(), keys, compiler_fingerprint())
    with _UNPICKLED_LOCK:
        _PORTABLE[pipeline] = (signer, state)
    return state


def unpickled(digest: str) -> CompiledPipeline | OptimizedPipeline | None:
    """The pipeline this process unpickled from a state of ``digest`` (``Portable.digest``),
    if it still keeps it: what ``unpickle`` of that state gives, without the state."""
    with _UNPICKLED_LOCK:
        if digest in _UNPICKLED:
            _UNPICKLED.move_to_end(digest)
        return _UNPICKLED.get(digest)


def unpickle(state: Portable) -> CompiledPipeline | OptimizedPipeline:
    """The pipeline ``state`` carries. Its machine code is used as it is when it was built
    for this host's target (no LLVM runs), else its IR is compiled; a state unpickled before
    in this process gives the same pipeline back. A pipeline without Python calls leaves
    its function and estimators pickled until something needs them (``willump_mlir.runtime
    .pickled``): its native code runs with the data arguments only. A program whose machine
    code is used leaves its IR unparsed until something reads it (``_UnparsedIR``)."""
    digest = state.digest()
    if (known := unpickled(digest)) is not None:
        return known
    # Unpickling runs code: it is trusted already. A program whose machine code came with
    # it, from this compiler, is looked up by its key; else its IR is compiled (and the
    # machine code is not taken: nothing would load it).
    same_compiler = state.compiler == compiler_fingerprint()
    # out-of-band buffers (``Portable.__reduce_ex__``) as bytes: nothing built keeps them
    entries = {key: bytes(raw) for key, raw in state.entries.items()} if same_compiler else {}
    # kept until the programs are loaded, which take the entries as checked on adoption
    adopted = {key: taken for key, raw in entries.items()
               if (taken := jit.adopt_entry(key, state.target, raw)) is not None}  # fmt: skip
    keys = {n: key for n, key in state.keys.items() if key in adopted}
    files = {name: bytes(raw) for name, raw in state.files.items()}
    pipeline = _load(Path("<unpickled pipeline>"), files, True, keys, unpickled=True)
    with _UNPICKLED_LOCK:
        pipeline = _UNPICKLED.setdefault(digest, pipeline)  # another thread's, if first
        while len(_UNPICKLED) > UNPICKLED_KEPT:
            _UNPICKLED.popitem(last=False)
    return pipeline


# endregion
