"""The willump-mlir passes: one module per pass, registered by name behind lazy factories."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Map each pass name to a factory that imports its module on demand."""

    def lower_pipeline_to_feature() -> type[ModulePass]:
        from willump_mlir.passes.lower_pipeline_to_feature import LowerPipelineToFeaturePass

        return LowerPipelineToFeaturePass

    def fuse_features() -> type[ModulePass]:
        from willump_mlir.passes.fuse_features import FuseFeaturesPass

        return FuseFeaturesPass

    def share_text_decoding() -> type[ModulePass]:
        from willump_mlir.passes.share_text_decoding import ShareTextDecodingPass

        return ShareTextDecodingPass

    def lower_feature_to_scf() -> type[ModulePass]:
        from willump_mlir.passes.lower_feature_to_scf import LowerFeatureToScfPass

        return LowerFeatureToScfPass

    def convert_to_llvm() -> type[ModulePass]:
        from willump_mlir.passes.convert_to_llvm import ConvertToLLVMPass

        return ConvertToLLVMPass

    return {
        "lower-pipeline-to-feature": lower_pipeline_to_feature,
        "fuse-features": fuse_features,
        "share-text-decoding": share_text_decoding,
        "lower-feature-to-scf": lower_feature_to_scf,
        "convert-to-llvm": convert_to_llvm,
    }
