"""Real-data workloads shared by the demo, the tests and the benchmarks."""
