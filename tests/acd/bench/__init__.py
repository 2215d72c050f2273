"""Tests of the simulator, the naive baseline engine and the benchmarks."""
