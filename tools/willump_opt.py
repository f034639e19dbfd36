"""willump-opt: xdsl-opt with the willump-mlir dialects and passes registered."""

from collections.abc import Sequence

from xdsl.xdsl_opt_main import xDSLOptMain

from willump_mlir.dialects import get_all_dialects
from willump_mlir.passes import get_all_passes


class WillumpOptMain(xDSLOptMain):
    """The xDSL pass driver, extended with our dialects and passes."""

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in get_all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)


def main(args: Sequence[str] | None = None) -> None:
    WillumpOptMain(args=args).run()


if __name__ == "__main__":
    main()
