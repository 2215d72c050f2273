"""`ipcc bench chat` plumbing at a tiny size: the child server starts, visitors connect,
auto-reply agents answer every message, the JSON has the documented keys. No timing is
asserted (benchmarks are commands, not tests)."""

from __future__ import annotations

import argparse

import pytest

from acd.bench import chat

pytestmark = pytest.mark.timeout(120)


def test_bench_chat_small_run_answers_everything() -> None:
    p = argparse.ArgumentParser()
    chat.add_arguments(p)
    args = p.parse_args(["--connections", "20", "--active", "4", "--rate", "40",
                         "--seconds", "1"])
    r = chat.run(args)
    for key in ("connections", "kib_per_connection", "rtt_p50_ms", "rtt_p99_ms",
                "messages_per_s"):
        assert key in r
    assert r["connections"] == 20
    assert r["sent"] > 0 and r["answered"] == r["sent"]
    assert r["rtt_p50_ms"] <= r["rtt_p99_ms"]
    assert r["baseline"]["messages_per_s"] > 0
    assert r["target_met"] is False  # too small a run to claim the target
    assert "target" in chat.render(r)
