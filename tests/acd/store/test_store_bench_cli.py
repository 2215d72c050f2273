"""`ipcc bench store` runs end to end on tiny numbers and reports the agreed keys.

Only the shape and the bookkeeping are checked - never the speed.
"""

from __future__ import annotations

import argparse
import json

from acd.bench import store as bench


def test_bench_store_small_run(tmp_path) -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--rows", "600", "--chunk", "40", "--batch", "100",
                              "--baseline-rows", "30", "--dir", str(tmp_path)])
    result = bench.run(args)
    for key in ("rows_per_s", "baseline_rows_per_s", "ratio"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert isinstance(result["loop_lag_p99_ms"], float) and result["loop_lag_p99_ms"] >= 0
    assert result["rows"] == 600 and result["baseline_rows"] == 30
    assert result["batches"] >= 6  # --batch 100 caps each commit
    json.dumps(result)
    text = bench.render(result)
    assert "rows/s" in text and "baseline" in text and "target" in text
    assert list(tmp_path.iterdir()) == []  # temp databases removed


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench._pct(values, 50) == 50.0
    assert bench._pct(values, 99) == 99.0
    assert bench._pct(values, 100) == 100.0
    assert bench._pct([], 99) == 0.0
