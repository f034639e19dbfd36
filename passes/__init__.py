"""The willump-mlir passes: one module per pass, registered by name behind lazy factories."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Map each pass name to a factory that imports its module on demand."""

    def lower_pipeline_to_feature() -> type[ModulePass]:
        from willump_mlir.passes.lower_pipeline_to_feature import LowerPipelineToFeaturePass

        return LowerPipelineToFeaturePass

    def fold_scalers() -> type[ModulePass]:
        from willump_mlir.passes.fold_scalers import FoldScalersPass

        return FoldScalersPass

    def fuse_features() -> type[ModulePass]:
        from willump_mlir.passes.fuse_features import FuseFeaturesPass

        return FuseFeaturesPass

    def share_text_decoding() -> type[ModulePass]:
        from willump_mlir.passes.share_text_decoding import ShareTextDecodingPass

        return ShareTextDecodingPass

    def choose_tree_layout() -> type[ModulePass]:
        from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass

        return ChooseTreeLayoutPass

    def lower_feature_to_scf() -> type[ModulePass]:
        from willump_mlir.passes.lower_feature_to_scf import LowerFeatureToScfPass

        return LowerFeatureToScfPass

    def convert_to_llvm() -> type[ModulePass]:
        from willump_mlir.passes.convert_to_llvm import ConvertToLLVMPass

        return ConvertToLLVMPass

    def pack_kernel_arguments() -> type[ModulePass]:
        from willump_mlir.passes.pack_kernel_arguments import PackKernelArgumentsPass

        return PackKernelArgumentsPass

    def infer_feature_groups() -> type[ModulePass]:
        from willump_mlir.passes.infer_feature_groups import InferFeatureGroupsPass

        return InferFeatureGroupsPass

    def insert_cascade() -> type[ModulePass]:
        from willump_mlir.passes.insert_cascade import InsertCascadePass

        return InsertCascadePass

    def schedule_lazy() -> type[ModulePass]:
        from willump_mlir.passes.schedule_lazy import ScheduleLazyPass

        return ScheduleLazyPass

    def lower_cascade() -> type[ModulePass]:
        from willump_mlir.passes.lower_cascade import LowerCascadePass

        return LowerCascadePass

    return {
        "infer-feature-groups": infer_feature_groups,
        "insert-cascade": insert_cascade,
        "schedule-lazy": schedule_lazy,
        "lower-cascade": lower_cascade,
        "fold-scalers": fold_scalers,
        "lower-pipeline-to-feature": lower_pipeline_to_feature,
        "fuse-features": fuse_features,
        "share-text-decoding": share_text_decoding,
        "choose-tree-layout": choose_tree_layout,
        "lower-feature-to-scf": lower_feature_to_scf,
        "convert-to-llvm": convert_to_llvm,
        "pack-kernel-arguments": pack_kernel_arguments,
    }
