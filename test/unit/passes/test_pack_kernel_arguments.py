"""``pack-kernel-arguments`` refuses a kernel argument that does not fill an 8-byte slot
(the signatures it writes are checked by ``test/filecheck/passes/pack-kernel-arguments.mlir``)."""

from __future__ import annotations

import pytest
from xdsl.context import Context
from xdsl.dialects import builtin, llvm
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from willump_mlir.passes.pack_kernel_arguments import PackKernelArgumentsPass

NARROW = """
llvm.func @narrow(%n: i64, %flag: i32) attributes {willump.kernel} {
  llvm.return
}
"""


def test_an_argument_of_four_bytes_is_refused() -> None:
    ctx = Context()
    for dialect in (builtin.Builtin, llvm.LLVM):
        ctx.load_dialect(dialect)
    module = Parser(ctx, NARROW).parse_module()
    with pytest.raises(DiagnosticException, match="argument 1 of kernel @narrow is i32"):
        PackKernelArgumentsPass().apply(ctx, module)
