"""LLVM optimisation and code generation in a worker process.

llvmlite 0.50 keeps about 190 KB of native memory for every module it optimises and emits
(the new pass manager's instrumentation callbacks are registered and never freed), so a
process that compiles many pipelines would grow without bound. The JIT therefore runs
LLVM here, in a child process, and only loads the object code it sends back.

This file runs as a script (``python compile_worker.py``): it imports llvmlite and the
standard library only, so a worker starts in about 0.1 s. The protocol on its stdin and
stdout is a sequence of frames, each an 8-byte little-endian length and a payload:

- request: JSON ``{"ir": LLVM IR text, "cpu": name, "features": feature string}``;
- reply: a JSON frame ``{"symbols": [...], "externals": [...]}`` then the object code,
  or a single JSON frame ``{"error": message}``.

:func:`optimise` is also what the parent runs itself when it compiles in process.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import BinaryIO

import llvmlite.binding as llvm

LENGTH = struct.Struct("<Q")


def target_machine(cpu: str, features: str) -> llvm.TargetMachine:
    """A fresh -O3 JIT target machine for ``cpu``/``features``: the one code is emitted
    with and the one loading it uses (an MCJIT engine takes ownership)."""
    target = llvm.Target.from_default_triple()
    # jit=True with the default "jitdefault" code model selects the large code model on
    # 64-bit hosts: blobs may live anywhere in the address space relative to the code.
    return target.create_target_machine(cpu=cpu, features=features, opt=3, jit=True)


def optimise(llvm_ir: str, cpu: str, features: str) -> tuple[bytes, list[str], list[str]]:
    """``llvm_ir`` optimised at -O3 for ``cpu``/``features`` (loop and SLP vectorisation)
    and emitted as object code; with the externally visible symbols it defines and the
    external symbols it needs. The native target must be initialised."""
    mod = llvm.parse_assembly(llvm_ir)
    tm = target_machine(cpu, features)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)
    obj = tm.emit_object(mod)
    globals_ = (*mod.functions, *mod.global_variables)
    symbols = [
        g.name for g in globals_ if not g.is_declaration and g.linkage == llvm.Linkage.external
    ]
    externals = [g.name for g in globals_ if g.is_declaration and not g.name.startswith("llvm.")]
    return obj, symbols, externals


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's payload; ``None`` at the end of the stream."""
    head = stream.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (length,) = LENGTH.unpack(head)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return payload


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """Write one frame (not flushed)."""
    stream.write(LENGTH.pack(len(payload)) + payload)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer requests until the parent closes the pipe."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_native_asmparser()
    while (payload := read_frame(requests)) is not None:
        request = json.loads(payload)
        try:
            obj, symbols, externals = optimise(request["ir"], request["cpu"], request["features"])
        except Exception as error:  # reported to the parent, which raises it
            write_frame(replies, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
        else:
            write_frame(replies, json.dumps({"symbols": symbols, "externals": externals}).encode())
            write_frame(replies, obj)
        replies.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
