"""Benchmarks run as ``ipcc bench <name>``.

Each module defines ``add_arguments(parser)``, ``run(args) -> dict`` (the figures, with
stable JSON keys) and ``render(result) -> str`` (human-readable). ``naive`` holds the
scan-everything baseline engine the routing benchmark compares against; ``acd.sim`` is the
virtual-clock simulator both benchmarks drive.
"""
