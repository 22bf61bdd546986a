"""Benchmark script: prints annotate() latency and video frames/s on this machine (same as `facexpr bench`)."""

from pipeline.benchmark import run_benchmark

if __name__ == "__main__":
    run_benchmark()
