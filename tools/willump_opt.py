"""willump-opt: xdsl-opt with the willump-mlir dialects and passes registered.

Each run has one blob store (``willump_mlir.blobs``): ``#pipeline.blob`` data given as
dialect resources (``{-# dialect_resources: { pipeline: { name: "0x..." } } #-}``) is read
into it, passes read and create blobs in it, and the output prints the blobs it references
the same way.
"""

import functools
from collections.abc import Sequence

from xdsl.xdsl_opt_main import xDSLOptMain

from willump_mlir.blobs import BlobStore, pipeline_dialect
from willump_mlir.dialects import get_all_dialects
from willump_mlir.passes import get_all_passes


class WillumpOptMain(xDSLOptMain):
    """The xDSL pass driver, extended with our dialects and passes."""

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in get_all_dialects().items():
            if name == "pipeline":
                factory = functools.partial(pipeline_dialect, BlobStore())
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)


def main(args: Sequence[str] | None = None) -> None:
    WillumpOptMain(args=args).run()


if __name__ == "__main__":
    main()
