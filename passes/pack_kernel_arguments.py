"""pack-kernel-arguments: a kernel reads its arguments from one array of 8-byte slots.

The runtime calls a kernel through ctypes, which converts every argument on every call:
a text kernel of two dozen buffers (rows, the error record, outputs, documents and
scratch) spent more on that than a one-row call spends in the kernel. Packed, a kernel
takes the address of an array whose slot ``i`` holds its argument ``i`` (an ``i64`` or a
pointer), which the runtime fills once per thread for what does not change between calls
(scratch buffers, the error record) and per call for the rest::

    llvm.func @k(%n: i64, %err: !llvm.ptr {llvm.noalias}, %x: !llvm.ptr {llvm.noalias})
        attributes {willump.kernel} {...}
  ~>
    llvm.func @k.unpacked(%n: i64, %err: !llvm.ptr {llvm.noalias},
                          %x: !llvm.ptr {llvm.noalias}) {...}
    llvm.func @k(%args: !llvm.ptr) attributes {willump.kernel} {
      %0 = llvm.getelementptr inbounds %args[0] : (!llvm.ptr) -> !llvm.ptr, i64
      %1 = llvm.load %0 : !llvm.ptr -> i64
      %2 = llvm.getelementptr inbounds %args[1] : (!llvm.ptr) -> !llvm.ptr, i64
      %3 = llvm.load %2 : !llvm.ptr -> !llvm.ptr
      ...
      llvm.call @k.unpacked(%1, %3, ...) : (i64, !llvm.ptr, !llvm.ptr) -> ()
      llvm.return
    }

The unpacked function is the kernel as it was, ``noalias`` arguments included: the wrapper
adds a load per argument and a call per kernel call, not per row. It keeps external linkage,
which ``willump-opt -t llvm`` prints as the runtime's translation does
(``willump_mlir.translate``).
(``willump_mlir.runtime.jit.RUNTIME_ABI_VERSION`` names this calling convention: object
code cached or saved before it is compiled again.)
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import Float64Type, IntegerType, ModuleOp, i64
from xdsl.ir import Attribute, Block, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException

KERNEL = "willump.kernel"
UNPACKED = ".unpacked"  # the kernel body's name: a suffix no Python function name has


def _fits_a_slot(typ: Attribute) -> bool:
    """Whether a value of ``typ`` is 8 bytes: a pointer, ``i64`` or ``f64``."""
    return (
        isinstance(typ, llvm.LLVMPointerType | Float64Type)
        or isinstance(typ, IntegerType) and typ.width.data == 64
    )  # fmt: skip


def _wrapper(name: str, body: llvm.FuncOp) -> llvm.FuncOp:
    """``@name(%args: !llvm.ptr)``: loads each argument of ``body`` from its slot and calls
    it."""
    ftype = body.function_type
    entry = Block(arg_types=[llvm.LLVMPointerType()])
    arguments = []
    for slot, typ in enumerate(ftype.inputs):
        if not _fits_a_slot(typ):
            raise DiagnosticException(
                f"pack-kernel-arguments: argument {slot} of kernel @{name} is {typ}, "
                "not 8 bytes"
            )
        address = llvm.GEPOp(entry.args[0], [slot], i64, inbounds=True)
        value = llvm.LoadOp(address, typ)
        entry.add_ops([address, value])
        arguments.append(value.dereferenced_value)
    output = None if isinstance(ftype.output, llvm.LLVMVoidType) else ftype.output
    call = llvm.CallOp(body.sym_name.data, *arguments, return_type=output)
    entry.add_ops([call, llvm.ReturnOp(call.returned)])
    wrapper = llvm.FuncOp(
        name,
        llvm.LLVMFunctionType([llvm.LLVMPointerType()], output),
        linkage=llvm.LinkageAttr("external"),
        body=Region(entry),
    )
    wrapper.attributes[KERNEL] = body.attributes.pop(KERNEL)
    return wrapper


class PackKernel(RewritePattern):
    """A ``willump.kernel`` function ~> its body (``<name>.unpacked``) and a wrapper of
    its name reading the arguments from an array."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: llvm.FuncOp, rewriter: PatternRewriter, /) -> None:
        if KERNEL not in op.attributes or not op.body.blocks:
            return
        name = op.sym_name.data
        body = llvm.FuncOp(
            name + UNPACKED,
            op.function_type,
            linkage=llvm.LinkageAttr("external"),
            body=rewriter.move_region_contents_to_new_regions(op.body),
            other_props={"arg_attrs": op.arg_attrs} if op.arg_attrs is not None else None,
            extra_attrs=op.attributes,
        )
        rewriter.replace(op, [body, _wrapper(name, body)], [])


@dataclass(frozen=True)
class PackKernelArgumentsPass(ModulePass):
    """Give every kernel the one-pointer calling convention (see module doc)."""

    name = "pack-kernel-arguments"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(PackKernel(), apply_recursively=False).rewrite_module(op)
