"""A call through an IVR tree: prompts played, DTMF collected, queued with the IVR data."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.gateways.voice.rig import live_call, peer, until

pytestmark = pytest.mark.timeout(60)

TREE = """\
description: test menu
tenant: t1
dnis: ["3000"]
languages: [en]
default_language: en
entry: menu
nodes:
  menu:
    kind: menu
    prompt: demo_main_menu
    options: {"1": sales, "2": support}
    timeout: 3
    retries: 0
    on_failure: bye
  sales:
    kind: queue
    prompt: please_hold
    queue: sales
    data: {path: "sales-by-ivr"}
  support:
    kind: queue
    queue: support
  bye:
    kind: hangup
    prompt: goodbye
"""


@pytest.fixture
def ivr_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ivr"
    d.mkdir()
    (d / "t1-menu.yaml").write_text(TREE)
    return d


async def _rig(rig_factory: Any, ivr_dir: Path) -> Any:
    rig = await rig_factory(ivr_dir=str(ivr_dir))
    rig.server.tenants["t1"].dnis["3000"] = {"ivr": "t1-menu", "queue": "support"}
    return rig


async def test_menu_choice_queues_the_caller_with_the_ivr_data(
        rig_factory: Any, peers: list[Any], ivr_dir: Path) -> None:
    rig = await _rig(rig_factory, ivr_dir)
    caller = await peer(peers, user="caller")
    n = await caller.call(rig.uri("3000"))
    await caller.wait_for("state", call=n, state="CONFIRMED", timeout=10)
    call = await until(lambda: (c := live_call(rig.gw)) and c.phase.value == "ivr" and c, 5,
                       "the IVR")
    await asyncio.sleep(0.5)              # barge into the menu prompt
    caller.send("dtmf", call=n, digits="1")
    await until(lambda: call.contact_id, 10, "queued after the menu")
    view = rig.server.engine.contact_view(call.contact_id)
    assert view["queue"] == "sales"
    assert view["data"]["menu_path"] == ["menu:1"] and view["data"]["path"] == "sales-by-ivr"
    assert view["data"]["tree"] == "t1-menu" and view["data"]["call_id"] == call.id
    caller.send("hangup", call=n)
    cdr = await rig.cdr()
    assert cdr["outcome"] == "abandoned"
    assert cdr["timestamps"]["ivr"] is not None
    assert cdr["timestamps"]["ivr"] <= cdr["timestamps"]["ivr_ended"] <= \
        cdr["timestamps"]["queued"]
    assert cdr["ivr"]["outcome"] == "queued"


async def test_no_input_ends_in_the_hangup_node(
        rig_factory: Any, peers: list[Any], ivr_dir: Path) -> None:
    rig = await _rig(rig_factory, ivr_dir)
    caller = await peer(peers, user="caller")
    n = await caller.call(rig.uri("3000"))
    await caller.wait_for("disconnected", call=n, timeout=30)
    cdr = await rig.cdr()
    assert cdr["outcome"] == "ivr_hangup" and cdr["contact_id"] is None
    assert cdr["ivr"]["trace"]["last_node"] == "bye"


async def test_ivr_trace_reaches_the_ivr_service_and_its_stats(
        tmp_path: Path, peers: list[Any], ivr_dir: Path) -> None:
    """With the IVR service running, voice uses its registry and records each session."""
    from acd.ivr_service import IvrService
    from acd.server import Server
    from gateways.voice import VoiceGateway
    from tests.gateways.voice.rig import VoiceRig, free_port, voice_settings

    port = free_port()
    server = Server(voice_settings(port), tmp_path / "data")
    service = IvrService(ivr_dir=str(ivr_dir))
    gw = VoiceGateway()
    server.add_gateway(service)
    server.add_gateway(gw)
    await server.start()
    try:
        assert gw.registry is service.registry
        server.tenants["t1"].dnis["3000"] = {"ivr": "t1-menu", "queue": "support"}
        rig = VoiceRig(server, gw, port)
        caller = await peer(peers, user="caller")
        n = await caller.call(rig.uri("3000"))
        await caller.wait_for("state", call=n, state="CONFIRMED", timeout=10)
        call = await until(lambda: (c := live_call(gw)) and c.phase.value == "ivr" and c, 5,
                           "the IVR")
        await asyncio.sleep(0.5)
        caller.send("dtmf", call=n, digits="2")
        cid = await until(lambda: call.contact_id, 10, "queued after the menu")
        traces = await until_async(lambda: service.traces_for_contact("t1", cid), 10)
        assert [t["outcome"] for t in traces] == ["queued"]
        assert traces[0]["tree"] == "t1-menu" and traces[0]["contact_id"] == cid
        assert traces[0]["trace"]["outcome"] == "queued"
        stats = service.stats("t1", "t1-menu").to_dict()
        assert stats["sessions"] == 1 and stats["outcomes"]["queued"] == 1
        assert stats["visits"]["menu"] == 1 and stats["visits"]["support"] == 1
        caller.send("hangup", call=n)
        await rig.cdr()
    finally:
        await server.stop()


async def until_async(fetch: Any, timeout: float) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await fetch()
        if got:
            return got
        assert asyncio.get_running_loop().time() < deadline, "nothing recorded in time"
        await asyncio.sleep(0.1)
