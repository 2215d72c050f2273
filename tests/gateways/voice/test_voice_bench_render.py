"""`ipcc bench sip`: argument parsing, figures and the report (no sipp run here)."""

from __future__ import annotations

import argparse

from acd.bench import sip


def test_arguments_and_render_from_a_result() -> None:
    ap = argparse.ArgumentParser()
    sip.add_arguments(ap)
    ns = ap.parse_args(["--quick", "--rate", "15"])
    assert ns.quick and ns.rate == 15.0
    step = {"calls": 100, "sipp_exit": 0, "bridged": 100, "peak_bridged": 100, "ok": True,
            "clean": True, "rtp_loss_pct": 0.1, "invite_p99_ms": 60.0,
            "rss_per_call_mb": 18.4, "rss_growth_per_call_mb": 0.1, "cpu_pct_per_call": 1.4,
            "outcomes": {"answered": 100}}
    result = {"max_concurrent_calls": 100, "max_concurrent_calls_any_loss": 100,
              "calls_per_s": 20.0, "invite_p99_ms": 60.0, "rtp_loss_pct": 0.1,
              "rss_per_call_mb": 18.4, "cpu_pct_per_call": 1.4,
              "baseline_max_concurrent_calls": 100, "baseline_invite_p99_ms": 4.0,
              "workers": 51, "idle_rss_mb": 1900.0, "steps": [step],
              "rate_steps": [{"rate": 20.0, "calls": 100, "sipp_exit": 0, "bridged": 100,
                              "ok": True}], "cpus": 2, "rtp": True}
    text = sip.render(result)
    assert "ratio 15.0x" in text
    assert "target >= 100 concurrent with loss < 0.5%: yes" in text
    assert "target INVITE->200 p99 < 100 ms: yes" in text
    assert sip.render(result | {"calls_per_s": 10.0}).count("NO") == 1


def test_percentile_and_loss() -> None:
    assert sip._percentile([], 99) is None
    assert sip._percentile([float(i) for i in range(1, 101)], 99) == 99.0
    cdrs = [{"media": {"rx_packets": 995, "rx_lost": 5}}, {"media": {}}]
    assert sip._loss(cdrs) == 0.5
    assert sip._loss([{"media": {}}]) is None
    assert sip._outcomes([{"outcome": "answered"}, {"outcome": "answered"}]) == \
        {"answered": 2}
