"""Native-code runtime: LLVM IR emission, MCJIT loading and the on-disk object cache."""
