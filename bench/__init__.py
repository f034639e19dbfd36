"""Benchmark harness: scikit-learn vs ONNX Runtime vs willump-mlir, one subprocess per system.

Run ``python -m bench.run --help`` from the repository root.
"""
