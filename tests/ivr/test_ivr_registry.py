"""Reloading trees without a restart."""

from __future__ import annotations

import shutil

from ivr.events import Play
from ivr.registry import TreeRegistry
from ivr.simulate import CallSimulator

from .ivr_helpers import ACME, DEMO, OPEN, write

TREE_V1 = """\
tenant: shop
dnis: ["3000"]
entry: hello
nodes:
  hello:
    kind: say
    prompt: demo_welcome
    next: bye
  bye:
    kind: hangup
"""
TREE_V2 = TREE_V1.replace("prompt: demo_welcome", "prompt: acme_welcome")
TREE_BROKEN = TREE_V1.replace("next: bye", "next: by")


def files_of(sim: CallSimulator) -> list[str]:
    return [f.rsplit("/", 1)[1] for p in sim.plays for f in p.files]


def test_initial_load_and_dnis_routing(tmp_path):
    shutil.copy(DEMO, tmp_path)
    shutil.copy(ACME, tmp_path)
    reg = TreeRegistry(tmp_path)
    assert reg.names() == []                 # nothing is read until asked
    result = reg.reload()
    assert result.ok and result.applied == ("acme-main", "demo-main")
    assert reg.dnis_map() == {"1000": ("demo", "demo-main"), "1100": ("acme", "acme-main"),
                              "1101": ("acme", "acme-main")}
    session = reg.start_session("1100", ani="+1555", now=OPEN, call_id="c9")
    assert session.tree is reg.get("acme-main") and session.tenant == "acme"
    assert session.id == "c9"
    assert reg.start_session("4242", ani="x", now=OPEN) is None


def test_valid_edit_applies_to_new_sessions_only(tmp_path):
    path = write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    running = CallSimulator(reg.start_session("3000", "1", OPEN, call_id="old"))
    running.start(settle=False)
    path.write_text(TREE_V2)
    result = reg.reload()
    assert result.applied == ("shop",) and result.ok
    fresh = CallSimulator(reg.start_session("3000", "1", OPEN, call_id="new"))
    fresh.start()
    running.settle()
    assert files_of(running) == ["demo_welcome.wav"]      # kept its tree object
    assert files_of(fresh) == ["acme_welcome.wav"]
    assert running.session.tree is not fresh.session.tree


def test_unchanged_file_is_not_reapplied(tmp_path):
    write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    tree = reg.get("shop")
    gen = reg.generation
    result = reg.reload()
    assert result.unchanged == ("shop",) and result.applied == ()
    assert reg.get("shop") is tree and reg.generation == gen


def test_invalid_edit_is_refused_and_old_tree_stays(tmp_path):
    path = write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    old = reg.get("shop")
    path.write_text(TREE_BROKEN)
    result = reg.reload()
    assert not result.ok and result.applied == ()
    assert result.refused["shop"] == (
        (f"{path}: node 'hello' (line 5): field 'next' goes to unknown node 'by' "
         "(did you mean 'bye'?)"),)
    assert reg.get("shop") is old and reg.for_dnis("3000") is old
    path.write_text(TREE_V2)                 # fixed: applies
    assert reg.reload().applied == ("shop",) and reg.get("shop") is not old


def test_invalid_new_file_is_refused_and_others_load(tmp_path):
    write(tmp_path, "shop.yaml", TREE_V1)
    write(tmp_path, "bad.yaml", "nodes: [1, 2\n")
    reg = TreeRegistry(tmp_path)
    result = reg.reload()
    assert result.applied == ("shop",) and list(result.refused) == ["bad"]
    assert "YAML syntax" in result.errors[0] and reg.get("bad") is None


def test_removed_file_goes_out_of_service(tmp_path):
    path = write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    path.unlink()
    result = reg.reload()
    assert result.removed == ("shop",) and reg.for_dnis("3000") is None


def test_dnis_clash_refuses_the_newcomer(tmp_path):
    write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    write(tmp_path, "another.yaml", TREE_V2)     # claims 3000 too, sorts first
    result = reg.reload()
    assert list(result.refused) == ["another"]
    assert "dnis 3000 is already served by tree 'shop'" in result.refused["another"][0]
    assert reg.for_dnis("3000").name == "shop" and reg.get("another") is None


def test_session_plays_after_reload_through_simulator(tmp_path):
    write(tmp_path, "shop.yaml", TREE_V1)
    reg = TreeRegistry(tmp_path)
    reg.reload()
    sim = CallSimulator(reg.start_session("3000", "1", OPEN))
    sim.start()
    assert isinstance(sim.plays[0], Play) and sim.session.ended
