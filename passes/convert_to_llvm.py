"""convert-to-llvm: lower func/scf/cf/arith/math/memref to the llvm dialect.

xDSL 0.74 has no lowering to the llvm dialect, so this pass is the project's own. It
accepts the op set that the project's lowerings emit and produces a module of only
``llvm.func`` / ``llvm.mlir.global`` ops that ``xdsl.backend.llvm.convert.convert_module``
translates to LLVM IR::

    func.func @k(%x: memref<?xf64>, %n: index) -> f64 {...}
      ~>  llvm.func @k(%x: !llvm.ptr, %n: i64) -> f64 {...}      (external linkage)

Conventions:

* ``index`` becomes ``i64``; every memref becomes a bare ``!llvm.ptr`` to its first
  element (identity layout; static multi-dimensional shapes are linearised row-major).
* A public function with a body is a kernel, which the runtime calls with a distinct
  buffer for each memref argument that the kernel writes (fresh outputs, per-thread
  scratch and error record; inputs are only read), so its pointer arguments are
  ``{llvm.noalias}``: LLVM keeps values in registers across stores to other buffers.
* ``memref.global`` without an initial value becomes an *external* global that the JIT
  binds at load time (``willump_mlir.runtime.jit.bind_blob``)::

      "memref.global"() <{sym_name = "coef", sym_visibility = "public",
                          type = memref<21xf64>, initial_value}> : () -> ()
        ~>  llvm.mlir.global external @coef() : !llvm.array<21 x f64>

* math functions LLVM has intrinsics for use ``llvm.call_intrinsic`` with the mangled
  name (``llvm.sqrt.f64``); the others call libm (``@log1p``), declared once per module.
* ``feature.ufunc``/``feature.ufunc_loop`` call internal helpers that call numpy's own loop
  through the external symbols ``@"numpy.ufunc.<name>.<f64|f32>"`` (and its ``.data``
  pointer), which the runtime binds to the loading process's numpy
  (``runtime.ufunc_loops``).
* ``arith.fptosi``/``fptoui`` (absent from xDSL's llvm dialect) use the saturating
  intrinsics ``llvm.fpto{s,u}i.sat``; ``arith.uitofp`` is expanded with ``sitofp``.

The pass runs in phases: ``convert-scf-to-cf`` plus an ``scf.while`` lowering; memref
loads and stores (which need the memref shapes); one walker with the other op patterns
(which may still see ``index``/``memref`` operand types); finally
:class:`ValueTypesToLLVM`, which retypes every result and block argument.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import arith, builtin, cf, func, llvm, math, memref, scf
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    UnitAttr,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import BlockInsertPoint, InsertPoint
from xdsl.traits import SymbolTable
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf
from xdsl.utils.exceptions import DiagnosticException

from willump_mlir.abi import UFUNC_DATA_SUFFIX, ufunc_loop_symbol
from willump_mlir.dialects import feature

# --------------------------------------------------------------------------------------
# Type helpers
# --------------------------------------------------------------------------------------


def convert_type(typ: Attribute) -> Attribute:
    """``index`` -> ``i64``, ``memref<...>`` -> ``!llvm.ptr``; other types are unchanged."""
    if isinstance(typ, IndexType):
        return i64
    if isinstance(typ, MemRefType):
        return llvm.LLVMPointerType()
    return typ


def intrinsic_suffix(typ: Attribute) -> str:
    """The LLVM overload suffix of a scalar type: ``f64``, ``f32``, ``i64``, ..."""
    typ = convert_type(typ)
    match typ:
        case Float64Type():
            return "f64"
        case Float32Type():
            return "f32"
        case Float16Type():
            return "f16"
        case IntegerType():
            return f"i{typ.width.data}"
        case _:
            raise DiagnosticException(f"convert-to-llvm: no intrinsic overload for {typ}")


def _int_width(typ: Attribute) -> int:
    typ = convert_type(typ)
    if not isinstance(typ, IntegerType):
        raise DiagnosticException(f"convert-to-llvm: expected an integer type, got {typ}")
    return typ.width.data


def _call_intrinsic(name: str, args: Sequence[SSAValue], result: Attribute) -> Operation:
    """``llvm.call_intrinsic "name"(args) : (...) -> result``."""
    return llvm.CallIntrinsicOp(name, args, [convert_type(result)])


def _i1_constant(value: bool) -> llvm.ConstantOp:
    return llvm.ConstantOp(IntegerAttr(int(value), i1), i1)


# --------------------------------------------------------------------------------------
# scf.while -> cf (missing from xDSL's convert-scf-to-cf)
# --------------------------------------------------------------------------------------


class WhileLowering(RewritePattern):
    """Lower ``scf.while`` to blocks, as MLIR's SCFToControlFlow does::

    %r = scf.while (%a = %init) : (T) -> T {
      ...  scf.condition(%c) %v : T
    } do {
    ^bb0(%b: T):  ...  scf.yield %w : T
    }
      ~>  cf.br ^before(%init)
          ^before(%a: T): ... cf.cond_br %c, ^after(%v), ^continue
          ^after(%b: T):  ... cf.br ^before(%w)
          ^continue:      (uses of %r become %v)
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.WhileOp, rewriter: PatternRewriter, /) -> None:
        current = op.parent_block()
        if current is None:
            return
        continuation = current.split_before(op)
        before_first = op.before_region.first_block
        before_last = op.before_region.last_block
        after_first = op.after_region.first_block
        after_last = op.after_region.last_block
        assert before_first and before_last and after_first and after_last
        cond_op = before_last.last_op
        yield_op = after_last.last_op
        assert isinstance(cond_op, scf.ConditionOp) and isinstance(yield_op, scf.YieldOp)
        results = tuple(cond_op.args)

        rewriter.inline_region(op.before_region, BlockInsertPoint.before(continuation))
        rewriter.inline_region(op.after_region, BlockInsertPoint.before(continuation))
        rewriter.insert(cf.BranchOp(before_first, *op.arguments), InsertPoint.at_end(current))
        rewriter.replace(
            cond_op,
            cf.ConditionalBranchOp(cond_op.condition, after_first, results, continuation, ()),
        )
        rewriter.replace(yield_op, cf.BranchOp(before_first, *yield_op.operands))
        rewriter.replace(op, [], results)


# --------------------------------------------------------------------------------------
# arith
# --------------------------------------------------------------------------------------


class ArithConstantToLLVM(RewritePattern):
    """``arith.constant 0 : index`` ~> ``llvm.mlir.constant(0 : i64) : i64``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /) -> None:
        value = op.value
        typ = convert_type(op.result.type)
        if isinstance(value, IntegerAttr):
            raw = value.value.data
            if isinstance(typ, IntegerType) and typ.width.data == 1:
                raw = raw & 1
            value = IntegerAttr(raw, typ)
        elif not isinstance(value, FloatAttr | DenseIntOrFPElementsAttr):
            raise DiagnosticException(f"convert-to-llvm: unsupported constant {value}")
        rewriter.replace(op, llvm.ConstantOp(value, typ))


_ARITH_BINARY: dict[type[Operation], type[Operation]] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
    arith.AddiOp: llvm.AddOp,
    arith.SubiOp: llvm.SubOp,
    arith.MuliOp: llvm.MulOp,
    arith.DivSIOp: llvm.SDivOp,
    arith.DivUIOp: llvm.UDivOp,
    arith.RemSIOp: llvm.SRemOp,
    arith.RemUIOp: llvm.URemOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
    arith.ShLIOp: llvm.ShlOp,
    arith.ShRSIOp: llvm.AShrOp,
    arith.ShRUIOp: llvm.LShrOp,
}


class ArithBinaryToLLVM(RewritePattern):
    """``arith.addf %a, %b : f64`` ~> ``llvm.fadd %a, %b : f64`` (and the integer ops).

    Overflow flags are dropped (always safe); no fast-math flags are added.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        new = _ARITH_BINARY.get(type(op))
        if new is not None:
            rewriter.replace(op, new(op.operands[0], op.operands[1]))  # pyright: ignore


_ARITH_FLOAT_MINMAX: dict[type[Operation], str] = {
    arith.MaximumfOp: "llvm.maximum",
    arith.MinimumfOp: "llvm.minimum",
    arith.MaxnumfOp: "llvm.maxnum",
    arith.MinnumfOp: "llvm.minnum",
}

_ARITH_INT_MINMAX: dict[type[Operation], str] = {
    arith.MaxSIOp: "sgt",
    arith.MinSIOp: "slt",
    arith.MaxUIOp: "ugt",
    arith.MinUIOp: "ult",
}


class ArithMinMaxToLLVM(RewritePattern):
    """``arith.maximumf %a, %b : f64`` ~> ``llvm.call_intrinsic "llvm.maximum.f64"``
    (NaN-propagating, like arith); ``arith.maxsi`` ~> ``llvm.icmp "sgt"`` + ``llvm.select``.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        if (name := _ARITH_FLOAT_MINMAX.get(type(op))) is not None:
            typ = op.results[0].type
            rewriter.replace(
                op, _call_intrinsic(f"{name}.{intrinsic_suffix(typ)}", op.operands, typ)
            )
        elif (pred := _ARITH_INT_MINMAX.get(type(op))) is not None:
            lhs, rhs = op.operands
            cmp = llvm.ICmpOp(lhs, rhs, _icmp_predicate(pred))
            rewriter.replace(op, [cmp, llvm.SelectOp(cmp, lhs, rhs)])


def _icmp_predicate(name: str) -> IntegerAttr:
    return IntegerAttr(llvm.ICmpPredicateFlag(name).to_int(), i64)


class ArithCmpToLLVM(RewritePattern):
    """``arith.cmpi slt`` ~> ``llvm.icmp "slt"``; ``arith.cmpf uno`` ~> ``llvm.fcmp "uno"``.

    arith and llvm number the predicates identically. ``cmpf false/true`` fold to
    ``i1`` constants (the backend cannot print them).
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: arith.CmpiOp | arith.CmpfOp, rewriter: PatternRewriter, /
    ) -> None:
        pred = op.predicate.value.data
        if isinstance(op, arith.CmpiOp):
            rewriter.replace(op, llvm.ICmpOp(op.lhs, op.rhs, IntegerAttr(pred, i64)))
            return
        flag = llvm.FCmpPredicateFlag.from_int(pred)
        if flag in (llvm.FCmpPredicateFlag.FALSE, llvm.FCmpPredicateFlag.TRUE):
            rewriter.replace(op, _i1_constant(flag == llvm.FCmpPredicateFlag.TRUE))
        else:
            rewriter.replace(op, llvm.FCmpOp(op.lhs, op.rhs, IntegerAttr(pred, i64)))


class ArithSelectToLLVM(RewritePattern):
    """``arith.select %c, %a, %b : f64`` ~> ``llvm.select %c, %a, %b : i1, f64``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.SelectOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm.SelectOp(op.cond, op.lhs, op.rhs))


class ArithNegfToLLVM(RewritePattern):
    """``arith.negf %a : f64`` ~> ``llvm.fneg %a : f64``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.NegfOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, llvm.FNegOp(op.operand))


class ArithCastToLLVM(RewritePattern):
    """Integer/float conversions::

    arith.extui/extsi/trunci/index_cast  ~>  llvm.zext/sext/trunc (or nothing)
    arith.sitofp                         ~>  llvm.sitofp
    arith.uitofp %x : i64 to f64         ~>  sitofp of (x >> 1 | x & 1), doubled when x < 0
    arith.fptosi %x : f64 to i64         ~>  llvm.call_intrinsic "llvm.fptosi.sat.i64.f64"
    arith.extf/truncf/bitcast            ~>  llvm.fpext/fptrunc/bitcast
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        match op:
            case arith.ExtUIOp():
                self._int_resize(op, rewriter, signed=False)
            case arith.ExtSIOp() | arith.TruncIOp() | arith.IndexCastOp():
                self._int_resize(op, rewriter, signed=True)
            case arith.SIToFPOp():
                rewriter.replace(op, llvm.SIToFPOp(op.input, op.result.type))
            case arith.UIToFPOp():
                self._uitofp(op, rewriter)
            case arith.FPToSIOp() | arith.FPToUIOp():
                kind = "fptosi" if isinstance(op, arith.FPToSIOp) else "fptoui"
                res, src = op.result.type, op.input.type
                name = f"llvm.{kind}.sat.{intrinsic_suffix(res)}.{intrinsic_suffix(src)}"
                rewriter.replace(op, _call_intrinsic(name, [op.input], res))
            case arith.ExtFOp():
                rewriter.replace(op, llvm.FPExtOp(op.input, op.result.type))
            case arith.TruncFOp():
                rewriter.replace(op, llvm.FPTruncOp(op.input, op.result.type))
            case arith.BitcastOp():
                rewriter.replace(op, llvm.BitcastOp(op.input, op.result.type))
            case _:
                pass

    @staticmethod
    def _int_resize(op: Operation, rewriter: PatternRewriter, *, signed: bool) -> None:
        (src,) = op.operands
        res_type = convert_type(op.results[0].type)
        src_w, res_w = _int_width(src.type), _int_width(res_type)
        if src_w == res_w:
            rewriter.replace(op, [], [src])
        elif src_w > res_w:
            rewriter.replace(op, llvm.TruncOp(src, res_type))
        elif signed:
            rewriter.replace(op, llvm.SExtOp(src, res_type))
        else:
            rewriter.replace(op, llvm.ZExtOp(src, res_type))

    @staticmethod
    def _uitofp(op: arith.UIToFPOp, rewriter: PatternRewriter) -> None:
        src, res_type = op.input, op.result.type
        width = _int_width(src.type)
        if width < 64:
            wide = llvm.ZExtOp(src, i64)
            rewriter.replace(op, [wide, llvm.SIToFPOp(wide.results[0], res_type)])
            return
        if width > 64:
            raise DiagnosticException("convert-to-llvm: uitofp wider than i64 is unsupported")
        # Values >= 2^63 look negative: halve (keeping the low bit for rounding), double.
        zero, one = (llvm.ConstantOp(IntegerAttr(v, i64), i64) for v in (0, 1))
        neg = llvm.ICmpOp(src, zero.result, _icmp_predicate("slt"))
        half = llvm.LShrOp(src, one.result)
        low = llvm.AndOp(src, one.result)
        merged = llvm.OrOp(half.res, low.res)
        as_signed = llvm.SIToFPOp(src, res_type)
        halved = llvm.SIToFPOp(merged.res, res_type)
        doubled = llvm.FAddOp(halved.result, halved.result)
        pick = llvm.SelectOp(neg.res, doubled.res, as_signed.result)
        rewriter.replace(op, [zero, one, neg, half, low, merged, as_signed, halved, doubled, pick])


# --------------------------------------------------------------------------------------
# math
# --------------------------------------------------------------------------------------

_MATH_INTRINSICS: dict[type[Operation], str] = {
    math.AbsFOp: "llvm.fabs",
    math.SqrtOp: "llvm.sqrt",
    math.ExpOp: "llvm.exp",
    math.Exp2Op: "llvm.exp2",
    math.LogOp: "llvm.log",
    math.Log2Op: "llvm.log2",
    math.Log10Op: "llvm.log10",
    math.SinOp: "llvm.sin",
    math.CosOp: "llvm.cos",
    math.FloorOp: "llvm.floor",
    math.CeilOp: "llvm.ceil",
    math.TruncOp: "llvm.trunc",
    math.RoundOp: "llvm.round",
    math.RoundEvenOp: "llvm.roundeven",
    math.PowFOp: "llvm.pow",
    math.CopySignOp: "llvm.copysign",
    math.FmaOp: "llvm.fma",
    math.CtPopOp: "llvm.ctpop",
}

# Integer intrinsics with a trailing `i1 false` flag (is_int_min_poison / is_zero_poison).
_MATH_INT_FLAG_INTRINSICS: dict[type[Operation], str] = {
    math.AbsIOp: "llvm.abs",
    math.CountLeadingZerosOp: "llvm.ctlz",
    math.CountTrailingZerosOp: "llvm.cttz",
}


class MathIntrinsicToLLVM(RewritePattern):
    """``math.sqrt %x : f64`` ~> ``llvm.call_intrinsic "llvm.sqrt.f64"(%x) : (f64) -> f64``."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        typ = op.results[0].type if op.results else None
        if (name := _MATH_INTRINSICS.get(type(op))) is not None:
            assert typ is not None
            rewriter.replace(
                op, _call_intrinsic(f"{name}.{intrinsic_suffix(typ)}", op.operands, typ)
            )
        elif (name := _MATH_INT_FLAG_INTRINSICS.get(type(op))) is not None:
            assert typ is not None
            false = _i1_constant(False)
            call = _call_intrinsic(
                f"{name}.{intrinsic_suffix(typ)}", [*op.operands, false.result], typ
            )
            rewriter.replace(op, [false, call])
        elif isinstance(op, math.FPowIOp):
            base, exp = op.operands
            name = f"llvm.powi.{intrinsic_suffix(base.type)}.{intrinsic_suffix(exp.type)}"
            rewriter.replace(op, _call_intrinsic(name, op.operands, base.type))
        elif isinstance(op, math.RsqrtOp):
            assert typ is not None
            one = llvm.ConstantOp(FloatAttr(1.0, typ), typ)  # pyright: ignore
            root = _call_intrinsic(f"llvm.sqrt.{intrinsic_suffix(typ)}", op.operands, typ)
            div = llvm.FDivOp(one.result, root.results[0])
            rewriter.replace(op, [one, root, div])


_MATH_LIBM: dict[type[Operation], str] = {
    math.Log1pOp: "log1p",
    math.ExpM1Op: "expm1",
    math.TanhOp: "tanh",
    math.TanOp: "tan",
    math.SinhOp: "sinh",
    math.CoshOp: "cosh",
    math.AsinOp: "asin",
    math.AcosOp: "acos",
    math.AtanOp: "atan",
    math.AsinhOp: "asinh",
    math.AcoshOp: "acosh",
    math.AtanhOp: "atanh",
    math.Atan2Op: "atan2",
    math.ErfOp: "erf",
    math.CbrtOp: "cbrt",
}


@dataclass
class MathLibmToLLVM(RewritePattern):
    """``math.log1p %x : f64`` ~> ``llvm.call @log1p(%x) : (f64) -> f64`` (``log1pf`` for
    f32). Records each callee in ``declarations``; the pass declares them afterwards.
    """

    declarations: dict[str, llvm.LLVMFunctionType] = field(default_factory=dict)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        base = _MATH_LIBM.get(type(op))
        if base is None:
            return
        typ = op.results[0].type
        if isinstance(typ, Float64Type):
            callee = base
        elif isinstance(typ, Float32Type):
            callee = base + "f"
        else:
            raise DiagnosticException(f"convert-to-llvm: no libm {base} for {typ}")
        self.declarations[callee] = llvm.LLVMFunctionType([typ] * len(op.operands), typ)
        rewriter.replace(op, llvm.CallOp(callee, *op.operands, return_type=typ))


@dataclass(frozen=True)
class UfuncHelper:
    """The internal function through which kernels call numpy's loop of ``function``: on one
    element (``feature.ufunc``, ``arity`` operands, ``scalar_rhs``: the second read with
    stride 0) or over a range (``feature.ufunc_loop``)."""

    function: str
    element: Attribute  # f64 or f32
    arity: int
    scalar_rhs: bool = False
    over_range: bool = False

    @property
    def dtype(self) -> str:
        return "f64" if isinstance(self.element, Float64Type) else "f32"

    @property
    def name(self) -> str:
        kind = "ufunc_loop" if self.over_range else "ufunc"
        scalar = ".scalar_rhs" if self.scalar_rhs else ""
        return f"willump.{kind}.{self.function}.{self.dtype}{scalar}"

    @property
    def loop(self) -> str:
        return ufunc_loop_symbol(self.function, self.dtype)

    def definition(self) -> Operation:
        """The helper: numpy's loop on its pointers, dimension and steps on the stack::

        llvm.func internal @"willump.ufunc.log1p.f64"(%x: f64) -> f64 {
          (%x and a result slot on the stack, args {&x, &result}, dimensions {1}, steps {8, 8})
          %data = llvm.load @"numpy.ufunc.log1p.f64.data" : !llvm.ptr
          llvm.call @"numpy.ufunc.log1p.f64"(%args, %dimensions, %steps, %data)
          llvm.return (the result slot)
        }
        llvm.func internal @"willump.ufunc_loop.log1p.f64"(%in: !llvm.ptr, %out: !llvm.ptr,
                                                         %count: i64)   (args {%in, %out})
        llvm.func internal @"willump.ufunc_loop.power.f64.scalar_rhs"(%in, %scalar, %out,
                                                         %count)   (steps {8, 0, 8})
        """
        ptr = llvm.LLVMPointerType()
        size = 8 if isinstance(self.element, Float64Type) else 4
        slots = self.arity + 1
        if self.over_range:
            inputs: list[Attribute] = [ptr] * slots + [i64]
            block = Block(arg_types=inputs)
        else:
            block = Block(arg_types=[self.element] * self.arity)
            inputs = [self.element] * self.arity
        ops: list[Operation] = []

        def add(op: Operation) -> SSAValue:
            ops.append(op)
            return op.results[0]

        def at(base: SSAValue, element: Attribute, k: int) -> SSAValue:
            return add(llvm.GEPOp(base, [k], element, inbounds=True)) if k else base

        def number(value: int) -> SSAValue:
            return add(llvm.ConstantOp(IntegerAttr(value, i64), i64))

        if self.over_range:
            pointers, count = list(block.args[:slots]), block.args[slots]
        else:
            values = add(llvm.AllocaOp(number(slots), self.element))
            pointers = [at(values, self.element, k) for k in range(slots)]
            for value, slot in zip(block.args, pointers, strict=False):
                ops.append(llvm.StoreOp(value, slot))
            count = number(1)
        args = add(llvm.AllocaOp(number(slots), ptr))
        steps = add(llvm.AllocaOp(number(slots), i64))
        dimensions = add(llvm.AllocaOp(number(1), i64))
        ops.append(llvm.StoreOp(count, dimensions))
        for k, pointer in enumerate(pointers):
            ops.append(llvm.StoreOp(pointer, at(args, ptr, k)))
            step = 0 if self.scalar_rhs and k == 1 else size
            ops.append(llvm.StoreOp(number(step), at(steps, i64, k)))
        data = add(llvm.LoadOp(add(llvm.AddressOfOp(self.loop + UFUNC_DATA_SUFFIX, ptr)), ptr))
        ops.append(llvm.CallOp(self.loop, args, dimensions, steps, data))
        if self.over_range:
            ops.append(llvm.ReturnOp())
            output: Attribute = llvm.LLVMVoidType()
        else:
            ops.append(llvm.ReturnOp(add(llvm.LoadOp(pointers[-1], self.element))))
            output = self.element
        block.add_ops(ops)
        return llvm.FuncOp(self.name, llvm.LLVMFunctionType(inputs, output), body=Region(block))

    def declarations(self) -> list[Operation]:
        """numpy's loop (bound at load time) and its data pointer, as external symbols::

        llvm.func @"numpy.ufunc.log1p.f64"(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
        llvm.mlir.global external @"numpy.ufunc.log1p.f64.data"() : !llvm.ptr
        """
        ptr = llvm.LLVMPointerType()
        return [
            llvm.FuncOp(self.loop, llvm.LLVMFunctionType([ptr] * 4),
                        linkage=llvm.LinkageAttr("external")),
            llvm.GlobalOp(ptr, self.loop + UFUNC_DATA_SUFFIX, "external"),
        ]  # fmt: skip


@dataclass
class UfuncToLLVM(RewritePattern):
    """``feature.ufunc "log1p"(%x) : (f64) -> f64`` ~> ``llvm.call
    @"willump.ufunc.log1p.f64"(%x) : (f64) -> f64``; ``feature.ufunc_loop "log1p"
    %x[%i] into %chunk count %m`` ~> ``llvm.getelementptr`` of ``%x[%i]`` + ``llvm.call
    @"willump.ufunc_loop.log1p.f64"(%from, %chunk, %m)`` (with a ``second`` operand:
    ``(%from, %second, %chunk, %m)``, a ``scalar`` one's helper named ``....scalar_rhs``):
    internal helpers that call
    numpy's loop (:class:`UfuncHelper`), recorded in ``helpers``, which the pass defines
    afterwards.
    Runs with the memref accesses (it needs ``%x``'s memref type)."""

    helpers: dict[str, UfuncHelper] = field(default_factory=dict)

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: feature.UfuncOp | feature.UfuncLoopOp, rewriter: PatternRewriter, /
    ) -> None:
        if isinstance(op, feature.UfuncOp):
            typ = op.result.type
            helper = UfuncHelper(op.function.data, typ, len(op.inputs), op.scalar_rhs is not None)
            call = llvm.CallOp(helper.name, *op.inputs, return_type=typ)
        else:
            element = op.input.type.get_element_type()  # type: ignore[attr-defined]
            seconds = [op.second] if op.second is not None else []
            helper = UfuncHelper(op.function.data, element, 1 + len(seconds),
                                 op.scalar is not None, over_range=True)  # fmt: skip
            start = _element_pointer(op.input, [op.start], rewriter, op)
            call = llvm.CallOp(helper.name, start, *seconds, op.output, op.count)
        self.helpers.setdefault(helper.name, helper)
        rewriter.replace_op(op, call)


# --------------------------------------------------------------------------------------
# memref (bare-pointer convention)
# --------------------------------------------------------------------------------------


def _element_pointer(
    mem: SSAValue, indices: Sequence[SSAValue], rewriter: PatternRewriter, anchor: Operation
) -> SSAValue:
    """Insert the address computation of ``mem[indices]`` before ``anchor``::

    llvm.getelementptr inbounds %mem[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f64
    """
    mem_type = mem.type
    assert isinstance(mem_type, MemRefType)
    if not isinstance(mem_type.layout, builtin.NoneAttr):
        raise DiagnosticException("convert-to-llvm: only identity-layout memrefs are supported")
    elem = convert_type(mem_type.element_type)
    shape = mem_type.get_shape()
    if not indices:
        return mem
    linear = indices[0]
    if len(indices) > 1:
        if any(d < 0 for d in shape[1:]):
            raise DiagnosticException(
                "convert-to-llvm: multi-dimensional memrefs need a static inner shape"
            )
        new_ops: list[Operation] = []
        for dim, idx in zip(shape[1:], indices[1:], strict=True):
            size = llvm.ConstantOp(IntegerAttr(dim, i64), i64)
            scaled = llvm.MulOp(linear, size.result)
            summed = llvm.AddOp(scaled.res, idx)
            new_ops += [size, scaled, summed]
            linear = summed.res
        rewriter.insert(new_ops, InsertPoint.before(anchor))
    gep = llvm.GEPOp(mem, [llvm.GEP_USE_SSA_VAL], elem, ssa_indices=[linear], inbounds=True)
    rewriter.insert(gep, InsertPoint.before(anchor))
    return gep.result


class MemRefAccessToLLVM(RewritePattern):
    """``memref.load %m[%i] : memref<?xf64>`` ~> ``llvm.getelementptr`` + ``llvm.load``;
    ``memref.store`` likewise ~> ``llvm.getelementptr`` + ``llvm.store``;
    ``feature.prefetch %m[%i]`` ~> ``llvm.getelementptr`` + ``llvm.call_intrinsic
    "llvm.prefetch.p0"(%p, 0, 3, 1)`` (read, every cache level, data).
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: memref.LoadOp | memref.StoreOp | feature.PrefetchOp, rewriter: PatternRewriter, /
    ) -> None:
        if isinstance(op, feature.PrefetchOp):
            ptr = _element_pointer(op.ref, [op.index], rewriter, op)
            hints = [llvm.ConstantOp(IntegerAttr(k, i32), i32) for k in (0, 3, 1)]
            rewriter.insert(hints, InsertPoint.before(op))
            args = [ptr, *(hint.result for hint in hints)]
            rewriter.replace(op, llvm.CallIntrinsicOp("llvm.prefetch.p0", args, []))
            return
        ptr = _element_pointer(op.memref, op.indices, rewriter, op)
        if isinstance(op, memref.LoadOp):
            rewriter.replace(op, llvm.LoadOp(ptr, convert_type(op.res.type)))
        else:
            rewriter.replace(op, llvm.StoreOp(op.value, ptr))


class MemRefGlobalToLLVM(RewritePattern):
    """``memref.global`` ~> ``llvm.mlir.global``; ``memref.get_global`` ~> ``addressof``::

    "memref.global"() <{sym_name = "w", sym_visibility = "public",
                        type = memref<4xf64>, initial_value}> : () -> ()
      ~>  llvm.mlir.global external @w() : !llvm.array<4 x f64>

    Without an initial value the global is an external declaration, bound at JIT time.
    With a dense initial value it becomes an internal global holding that data.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: memref.GlobalOp | memref.GetGlobalOp, rewriter: PatternRewriter, /
    ) -> None:
        if isinstance(op, memref.GetGlobalOp):
            rewriter.replace(op, llvm.AddressOfOp(op.name_, llvm.LLVMPointerType()))
            return
        mem_type = op.type
        shape = mem_type.get_shape()
        if any(d < 0 for d in shape):
            raise DiagnosticException("convert-to-llvm: memref.global needs a static shape")
        count = 1
        for d in shape:
            count *= d
        array = llvm.LLVMArrayType(count, convert_type(mem_type.element_type))
        if isinstance(op.initial_value, UnitAttr):
            new = llvm.GlobalOp(array, op.sym_name, "external")
        else:
            new = llvm.GlobalOp(
                array,
                op.sym_name,
                "internal",
                constant=op.constant is not None,
                value=op.initial_value,
                alignment=op.alignment.value.data if op.alignment else None,
            )
        rewriter.replace(op, new)


class MemRefAllocaToLLVM(RewritePattern):
    """``memref.alloca() : memref<64xf64>`` ~> ``llvm.alloca`` of 64 f64 (static shapes)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /) -> None:
        mem_type = op.memref.type
        assert isinstance(mem_type, MemRefType)
        count = 1
        for d in mem_type.get_shape():
            if d < 0:
                raise DiagnosticException("convert-to-llvm: memref.alloca needs a static shape")
            count *= d
        size = llvm.ConstantOp(IntegerAttr(count, i64), i64)
        rewriter.insert(size, InsertPoint.before(op))
        rewriter.replace(op, llvm.AllocaOp(size, convert_type(mem_type.element_type)))


class MemRefCastToLLVM(RewritePattern):
    """``memref.cast %m : memref<64xf64> to memref<?xf64>`` ~> ``%m`` (both are a bare pointer)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.CastOp, rewriter: PatternRewriter, /) -> None:
        rewriter.replace(op, [], [op.source])


# --------------------------------------------------------------------------------------
# cf and func
# --------------------------------------------------------------------------------------


class CfBranchToLLVM(RewritePattern):
    """``cf.br ^bb(%v)`` ~> ``llvm.br ^bb(%v)``; ``cf.cond_br`` ~> ``llvm.cond_br``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: cf.BranchOp | cf.ConditionalBranchOp, rewriter: PatternRewriter, /
    ) -> None:
        if isinstance(op, cf.BranchOp):
            rewriter.replace(op, llvm.BrOp(op.successor, *op.arguments))
        else:
            rewriter.replace(
                op,
                llvm.CondBrOp(
                    op.cond, op.then_block, op.then_arguments, op.else_block, op.else_arguments
                ),
            )


def _llvm_function_type(ftype: builtin.FunctionType, name: str) -> llvm.LLVMFunctionType:
    outputs = ftype.outputs.data
    if len(outputs) > 1:
        raise DiagnosticException(f"convert-to-llvm: @{name} returns more than one value")
    out = convert_type(outputs[0]) if outputs else None
    return llvm.LLVMFunctionType([convert_type(t) for t in ftype.inputs.data], out)


class FuncToLLVM(RewritePattern):
    """``func.func``/``func.call``/``func.return`` ~> ``llvm.func``/``llvm.call``/``llvm.return``.

    Public functions and declarations get external linkage (so the JIT can look them
    up / resolve them); private definitions become internal. A function keeps its
    ``willump.*`` attributes: the LLVM IR translation defines ``willump.tree_branches`` and
    marks ``willump.noinline`` definitions ``noinline``; ``pack-kernel-arguments`` packs a
    ``willump.kernel``'s arguments.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: func.FuncOp | func.CallOp | func.ReturnOp, rewriter: PatternRewriter, /
    ) -> None:
        if isinstance(op, func.ReturnOp):
            if len(op.arguments) > 1:
                raise DiagnosticException("convert-to-llvm: multi-value func.return")
            rewriter.replace(op, llvm.ReturnOp(op.arguments[0] if op.arguments else None))
        elif isinstance(op, func.CallOp):
            if len(op.res) > 1:
                raise DiagnosticException("convert-to-llvm: multi-result func.call")
            ret = convert_type(op.res[0].type) if op.res else None
            rewriter.replace(op, llvm.CallOp(op.callee, *op.arguments, return_type=ret))
        else:
            name = op.sym_name.data
            private = op.sym_visibility is not None and op.sym_visibility.data == "private"
            has_body = bool(op.body.blocks)
            linkage = "internal" if private and has_body else "external"
            new = llvm.FuncOp(
                name,
                _llvm_function_type(op.function_type, name),
                linkage=llvm.LinkageAttr(linkage),
                body=rewriter.move_region_contents_to_new_regions(op.body),
            )
            new.attributes |= {k: v for k, v in op.attributes.items() if k.startswith("willump.")}
            pointers = any(isinstance(t, MemRefType) for t in op.function_type.inputs)
            if has_body and not private and pointers:
                new.properties["arg_attrs"] = builtin.ArrayAttr(
                    [
                        builtin.DictionaryAttr(
                            {"llvm.noalias": UnitAttr()} if isinstance(t, MemRefType) else {}
                        )
                        for t in op.function_type.inputs
                    ]
                )
            if has_body and "willump.kernel" in op.attributes:  # for pack-kernel-arguments
                new.attributes["willump.kernel"] = op.attributes["willump.kernel"]
            rewriter.replace(op, new)


# --------------------------------------------------------------------------------------
# Types of values
# --------------------------------------------------------------------------------------


class ValueTypesToLLVM(RewritePattern):
    """Retype every result and block argument: ``index`` -> ``i64``, memref -> ``!llvm.ptr``.

    Runs after the op patterns, which build llvm ops whose result types may have been
    inferred from not-yet-converted operands.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        for res in op.results:
            if (new := convert_type(res.type)) is not res.type:
                rewriter.replace_value_with_new_type(res, new)
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    if (new := convert_type(arg.type)) is not arg.type:
                        rewriter.replace_value_with_new_type(arg, new)


# --------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvertToLLVMPass(ModulePass):
    """Lower a func/scf/arith/math/memref module to the llvm dialect (see module doc)."""

    name = "convert-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        ConvertScfToCf().apply(ctx, op)
        PatternRewriteWalker(WhileLowering()).rewrite_module(op)
        # Accesses first: they need the memref types that the other patterns erase.
        ufuncs = UfuncToLLVM()
        PatternRewriteWalker(
            GreedyRewritePatternApplier([MemRefAccessToLLVM(), ufuncs]), apply_recursively=False
        ).rewrite_module(op)

        libm = MathLibmToLLVM()
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    ArithConstantToLLVM(),
                    ArithBinaryToLLVM(),
                    ArithMinMaxToLLVM(),
                    ArithCmpToLLVM(),
                    ArithSelectToLLVM(),
                    ArithNegfToLLVM(),
                    ArithCastToLLVM(),
                    MathIntrinsicToLLVM(),
                    libm,
                    MemRefGlobalToLLVM(),
                    MemRefAllocaToLLVM(),
                    MemRefCastToLLVM(),
                    CfBranchToLLVM(),
                    FuncToLLVM(),
                ]
            ),
            apply_recursively=False,
        ).rewrite_module(op)
        PatternRewriteWalker(ValueTypesToLLVM(), apply_recursively=False).rewrite_module(op)

        for callee, ftype in libm.declarations.items():
            if SymbolTable.lookup_symbol(op, callee) is None:
                op.body.block.add_op(
                    llvm.FuncOp(callee, ftype, linkage=llvm.LinkageAttr("external"))
                )
        for helper in ufuncs.helpers.values():
            op.body.block.add_op(helper.definition())
            if SymbolTable.lookup_symbol(op, helper.loop) is None:
                op.body.block.add_ops(helper.declarations())
        _check_lowered(op)


def _check_lowered(module: ModuleOp) -> None:
    """Fail with a clear message if an op the pass does not lower is left over."""
    for nested in module.walk():
        if nested is module or nested.dialect_name() == "llvm":
            continue
        raise DiagnosticException(f"convert-to-llvm: cannot lower '{nested.name}'")
