"""The pass pipeline from ``pipeline`` IR to machine code, stage by stage.

```
pipeline --fold-scalers, lower-pipeline-to-feature, share-text-decoding,
           fuse-features, choose-tree-layout----------> feature
feature  --(exact mode: no cascade ops)-------------> cascade
cascade  --lower-feature-to-scf----------------------> scf    (kernels + schedule)
scf      --convert-to-llvm, pack-kernel-arguments----> llvm   --translate--> llvm-ir
```

The compilation's constant arrays travel with it in a :class:`~willump_mlir.blobs.BlobStore`:
every stage's passes run in a context whose ``pipeline`` dialect holds the store
(``blobs.blob_store(ctx)``), so a pass may read blobs and create new ones, and the
translation to LLVM IR writes generated code from them. A compilation may run a pass with
options of its own (``StagedModule.passes``) instead of the default one.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from xdsl.context import Context
from xdsl.dialects import arith, builtin, cf, func, llvm, math, memref, scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.printer import Printer

from willump_mlir.blobs import BlobStore, pipeline_dialect
from willump_mlir.dialects import get_all_dialects
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass
from willump_mlir.passes.convert_to_llvm import ConvertToLLVMPass
from willump_mlir.passes.fold_scalers import FoldScalersPass
from willump_mlir.passes.fuse_features import FuseFeaturesPass
from willump_mlir.passes.lower_feature_to_scf import LowerFeatureToScfPass
from willump_mlir.passes.lower_pipeline_to_feature import LowerPipelineToFeaturePass
from willump_mlir.passes.pack_kernel_arguments import PackKernelArgumentsPass
from willump_mlir.passes.share_text_decoding import ShareTextDecodingPass
from willump_mlir.translate import module_to_llvm_ir

if TYPE_CHECKING:
    from willump_mlir.frontend.spec import FrontendResult

Pass = TypeVar("Pass", bound=ModulePass)
STAGES = ("pipeline", "feature", "cascade", "scf", "llvm", "llvm-ir")

# The passes that produce each stage from the one before it.
STAGE_PASSES: dict[str, tuple[type[ModulePass], ...]] = {
    "feature": (
        FoldScalersPass, LowerPipelineToFeaturePass, ShareTextDecodingPass, FuseFeaturesPass,
        ChooseTreeLayoutPass,
    ),  # fmt: skip
    "cascade": (),
    "scf": (LowerFeatureToScfPass,),
    "llvm": (ConvertToLLVMPass, PackKernelArgumentsPass),
}


def context(blobs: BlobStore | None = None) -> Context:
    """A context with our dialects and the upstream ones the lowering uses; its ``pipeline``
    dialect holds ``blobs`` (a new, empty store by default)."""
    ctx = Context()
    upstream: list[Dialect] = [
        builtin.Builtin, func.Func, arith.Arith, math.Math, scf.Scf, memref.MemRef, cf.Cf,
        llvm.LLVM,
    ]  # fmt: skip
    for dialect in upstream:
        ctx.load_dialect(dialect)
    ctx.load_dialect(pipeline_dialect(BlobStore() if blobs is None else blobs))
    for name, factory in get_all_dialects().items():
        if name != "pipeline":
            ctx.load_dialect(factory())
    return ctx


@dataclass
class StagedModule:
    """The IR of every stage of one compilation, computed on demand from the first, and the
    compilation's blobs: those the pipeline IR reads, and those its passes create; and the
    keyword options of the passes that take some, by pass name. The first stage is the
    module of ``traced``, read when a stage is first asked for (an unpickled program's IR
    is parsed then, see ``persist.unpickle``)."""

    traced: FrontendResult
    blobs: BlobStore
    passes: Mapping[str, ModulePass] = field(default_factory=dict)
    """Passes with options, by name, run instead of the stages' default ones
    (``{"choose-tree-layout": ChooseTreeLayoutPass(layout="nodes")}``)."""
    modules: dict[str, ModuleOp] = field(default_factory=dict)
    llvm_ir: str | None = None

    @property
    def pipeline(self) -> ModuleOp:
        """The module of the first stage, the pipeline IR."""
        return self.module("pipeline")

    def module(self, stage: str) -> ModuleOp:
        """The module at ``stage`` (not ``llvm-ir``, which is text)."""
        if stage == "pipeline":
            return self.modules.setdefault(stage, self.traced.module)
        if stage not in self.modules:
            previous = STAGES[STAGES.index(stage) - 1]
            module = self.module(previous).clone()
            ctx = context(self.blobs)
            for make_pass in STAGE_PASSES[stage]:
                self.configured(make_pass).apply(ctx, module)
            module.verify()
            self.modules[stage] = module
        return self.modules[stage]

    def configured(self, make_pass: type[Pass]) -> Pass:
        """The instance of ``make_pass`` this compilation runs: its own, or the default."""
        found = self.passes.get(make_pass.name)
        return found if isinstance(found, make_pass) else make_pass()

    def text(self, stage: str, *, blobs: bool = False) -> str:
        """The textual IR of ``stage``; with ``blobs``, followed by the data of the blobs it
        references (``{-# dialect_resources: { pipeline: {...} } #-}``), as ``willump-opt``
        prints it: text that ``willump-opt`` can run the next stage's passes on, where
        they read blob data (a linear model's coefficients, a vocabulary)."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        if stage == "llvm-ir":
            if self.llvm_ir is None:
                self.llvm_ir = module_to_llvm_ir(self.module("llvm"), self.blobs)
            return self.llvm_ir
        if not blobs:
            return str(self.module(stage))
        text = io.StringIO()
        printer = Printer(stream=text)
        printer.print_op(self.module(stage))
        printer.print_metadata(context(self.blobs).loaded_dialects)
        return text.getvalue()
