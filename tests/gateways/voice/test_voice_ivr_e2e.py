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
