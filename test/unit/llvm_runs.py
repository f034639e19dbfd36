"""Imported first by a child process of a test: counts the modules LLVM compiles in that
process (``COMPILED``: one entry a module), so the test can assert that none ran."""

from willump_mlir.runtime import jit

COMPILED: list[int] = []
_real = jit._optimise


def _counting(llvm_ir: str) -> tuple[bytes, list[str], list[str]]:
    COMPILED.append(len(llvm_ir))
    return _real(llvm_ir)


jit._optimise = _counting
