"""kill -9 of the control process: waiting contacts and agent sessions come back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.proc import IpccProcess

pytestmark = pytest.mark.timeout(120)


def test_waiting_contacts_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = IpccProcess(data, "--bus-url", "none", "--no-voice").start()
    try:
        admin = first.client("admin", "admin")
        agent = first.client("agent3", "agent")
        # agent3 works support and sales but stays not ready: nothing gets offered.
        assert agent.post("/agents/agent3/login", json={"device": "sip:agent3@127.0.0.1:5099",
                                                        "site": "kaohsiung", "seat": "K-7"}
                          ).status_code == 200
        assert agent.put("/agents/agent3/state", json={"state": "not_ready", "reason": "break"}
                         ).status_code == 200
        created = []
        for i, (queue, prio) in enumerate([("support", 0), ("sales", 3), ("support", 7),
                                           ("sales", 0), ("support", 7), ("sales", 3),
                                           ("support", 1)]):
            r = admin.post("/contacts", json={"channel": "email", "queue": queue,
                                              "priority": prio,
                                              "customer": {"name": f"customer {i}"}})
            assert r.status_code == 201
            created.append(r.json()["id"])
        before = {q: admin.get(f"/queues/{q}/contacts").json()["contacts"]
                  for q in ("sales", "support")}
        assert sum(len(v) for v in before.values()) == 7
    finally:
        first.kill()

    second = IpccProcess(data, "--bus-url", "none", "--no-voice").start()
    try:
        admin = second.client("admin", "admin")
        for q in ("sales", "support"):
            after = admin.get(f"/queues/{q}/contacts").json()["contacts"]
            assert [(c["id"], c["priority"], c["arrival"]) for c in after] == \
                   [(c["id"], c["priority"], c["arrival"]) for c in before[q]]
        state = admin.get("/agents/agent3/state").json()
        assert state["presence"] == "not_ready" and state["reason"] == "break"
        assert state["device"] == "sip:agent3@127.0.0.1:5099" and state["site"] == "kaohsiung"
        # and routing resumes: agent3 goes ready and gets the head of support
        head = before["support"][0]["id"]
        admin.put("/agents/agent3/state", json={"state": "ready"})
        assert admin.get(f"/contacts/{head}").json()["agent_id"] == "agent3"
    finally:
        second.stop()
