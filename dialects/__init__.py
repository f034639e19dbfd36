"""The willump-mlir dialects: ``pipeline``, ``feature`` and ``cascade``.

``get_all_dialects`` maps each dialect name to a factory, so that tools load a
dialect only when a module names it.
"""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Our dialects, each behind a lazy factory."""

    def get_pipeline() -> Dialect:
        from willump_mlir.dialects.pipeline import Pipeline

        return Pipeline

    def get_feature() -> Dialect:
        from willump_mlir.dialects.feature import Feature

        return Feature

    def get_cascade() -> Dialect:
        from willump_mlir.dialects.cascade import Cascade

        return Cascade

    return {"pipeline": get_pipeline, "feature": get_feature, "cascade": get_cascade}
