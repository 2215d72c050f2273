"""The chat gateway against real websockets clients on loopback and the REST API."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from acd.server import Server
from gateways.chat import ChatGateway

from .conftest import SHOP, open_visitor, ready_agent

pytestmark = pytest.mark.timeout(60)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


async def connected_chat(api, gw: ChatGateway, agent: str = "agent1", **hello):
    await ready_agent(api, agent)
    v, welcome = await open_visitor(gw, entry="sales", form={"name": "Mei", "email":
                                                             "mei@example.com"}, **hello)
    assert welcome["state"] == "waiting"
    conv = gw.find("demo", welcome["conversation"])
    r = await api.as_(agent, "POST", f"/contacts/{conv.contact_id}/accept")
    assert r.status_code == 200, r.text
    joined = await v.expect("agent_joined")
    assert joined["agent"] == "Agent 1"
    return v, welcome, conv


async def test_visitor_to_agent_and_back(api, gw: ChatGateway) -> None:
    v, _, conv = await connected_chat(api, gw)
    await v.send(type="message", client_id="v1", text="<img src=x onerror=alert(1)> hi")
    ack = await v.expect("ack", client_id="v1")
    assert ack["message"]["seq"] == 1
    r = await api.as_("agent1", "GET", f"/chats/{conv.contact_id}")
    assert r.status_code == 200
    assert [m["text"] for m in r.json()["messages"]] == ["<img src=x onerror=alert(1)> hi"]
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/messages",
                      json={"text": "Hello Mei", "client_id": "a1"})
    assert r.status_code == 201, r.text
    got = await v.expect("message")
    assert got["message"]["text"] == "Hello Mei" and got["message"]["sender"] == "agent"
    # typing and read receipts both ways
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/typing", json={"on": True})
    assert r.status_code == 204
    assert (await v.expect("typing"))["on"] is True
    await v.send(type="read", seq=2)
    for _ in range(50):
        if conv.read_up_to["visitor"] == 2:
            break
        await asyncio.sleep(0.02)
    assert conv.read_up_to["visitor"] == 2
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/read", json={"seq": 1})
    assert (await v.expect("read"))["seq"] == 1
    # other agents of the tenant cannot act on it; other tenants cannot see it
    r = await api.as_("agent2", "POST", f"/chats/{conv.id}/messages", json={"text": "x"})
    assert r.status_code == 403
    r = await api.as_("admin@acme", "GET", f"/chats/{conv.id}")
    assert r.status_code == 404
    # the agent closes: visitor told, contact in wrap-up
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/end")
    assert r.status_code == 200 and r.json()["state"] == "ended"
    await v.expect("ended")
    await v.close()


async def test_duplicate_sends_are_delivered_once(api, gw: ChatGateway) -> None:
    v, welcome, conv = await connected_chat(api, gw)
    v2, _ = await open_visitor(gw, resume=welcome["resume"])  # a second tab
    await v.send(type="message", client_id="same", text="once")
    await v.send(type="message", client_id="same", text="once")
    a1 = await v.expect("ack", client_id="same")
    a2 = await v.expect("ack", client_id="same")
    assert a1["message"]["id"] == a2["message"]["id"]
    first = await v2.expect("message")
    assert first["message"]["text"] == "once"
    for body in ({"text": "agent once", "client_id": "k"},) * 2:
        r = await api.as_("agent1", "POST", f"/chats/{conv.id}/messages", json=body)
        assert r.status_code in (200, 201)
    await v2.expect("message", timeout=5)
    # a sentinel proves nothing else (no second copy) arrived before it
    await api.as_("agent1", "POST", f"/chats/{conv.id}/messages", json={"text": "sentinel"})
    await v2.expect("message")
    texts = [f["message"]["text"] for f in v2.seen if f.get("type") == "message"]
    assert texts == ["once", "agent once", "sentinel"]
    r = await api.as_("agent1", "GET", f"/chats/{conv.id}")
    assert [m["text"] for m in r.json()["messages"]] == ["once", "agent once", "sentinel"]
    await v.close()
    await v2.close()


async def test_reconnect_with_resume_token_gets_everything(api, gw: ChatGateway,
                                                           chat_server: Server) -> None:
    v, welcome, conv = await connected_chat(api, gw)
    await v.send(type="message", client_id="1", text="first")
    await v.expect("ack")
    await v.close()  # connection lost; the agent keeps writing
    for i in range(3):
        r = await api.as_("agent1", "POST", f"/chats/{conv.id}/messages",
                          json={"text": f"while away {i}"})
        assert r.status_code == 201
    v2, w2 = await open_visitor(gw, resume=welcome["resume"])
    assert w2["conversation"] == welcome["conversation"] and w2["state"] == "active"
    assert [m["text"] for m in w2["messages"]] == ["first"] + [f"while away {i}"
                                                              for i in range(3)]
    # resuming from a known seq gets only the rest
    v3, w3 = await open_visitor(gw, resume=w2["resume"], last_seq=3)
    assert [m["seq"] for m in w3["messages"]] == [4]
    # the messages are in the database, not only in memory
    gw._convs.clear()
    loaded = await gw.store.load(conv.id)
    assert [m.text for m in loaded.messages][-1] == "while away 2"
    # a forged token is refused
    ws = await connect(f"ws://127.0.0.1:{gw.port}/demo", origin=SHOP)
    await ws.send(json.dumps({"type": "hello", "resume": welcome["resume"][:-2] + "xx"}))
    err = json.loads(await ws.recv())
    assert err["type"] == "error" and err["code"] == 404
    await ws.close()
    await v2.close()
    await v3.close()


@pytest.mark.parametrize("chat_over", [{"messages_per_s": 1.0, "message_burst": 3}])
async def test_rate_limit_per_conversation(api, gw: ChatGateway) -> None:
    v, _, _ = await connected_chat(api, gw)
    other, _ = await open_visitor(gw, entry="sales")
    for i in range(6):
        await v.send(type="message", client_id=f"r{i}", text=f"spam {i}")
    err = await v.expect("error")
    assert err["code"] == 429 and err["retry_after"] > 0
    # another visitor is unaffected
    await other.send(type="message", client_id="o1", text="hello")
    assert (await other.expect("ack"))["client_id"] == "o1"
    await v.close()
    await other.close()


@pytest.mark.parametrize("chat_over", [{"connections_per_ip_per_min": 1.0,
                                        "connection_burst": 2}])
async def test_handshake_rate_limit_per_ip_is_429_with_retry_after(gw: ChatGateway) -> None:
    opened = []
    with pytest.raises(InvalidStatus) as e:
        for _ in range(5):
            opened.append(await connect(f"ws://127.0.0.1:{gw.port}/demo", origin=SHOP))
    assert len(opened) == 2
    assert e.value.response.status_code == 429
    assert int(e.value.response.headers["Retry-After"]) >= 1
    for ws in opened:
        await ws.close()


async def test_origin_and_tenant_refused(gw: ChatGateway) -> None:
    with pytest.raises(InvalidStatus) as e:
        await connect(f"ws://127.0.0.1:{gw.port}/demo", origin="https://evil.example")
    assert e.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as e:
        await connect(f"ws://127.0.0.1:{gw.port}/nosuch", origin=SHOP)
    assert e.value.response.status_code == 404
    # acme has no list: only this server's own web origin
    with pytest.raises(InvalidStatus) as e:
        await connect(f"ws://127.0.0.1:{gw.port}/acme", origin=SHOP)
    assert e.value.response.status_code == 403
    assert gw.counters["refused_origin"] == 2


async def test_oversize_and_bad_attachments_refused(api, gw: ChatGateway) -> None:
    v, _, conv = await connected_chat(api, gw)
    await v.send(type="message", client_id="big", text="x" * 201)
    err = await v.expect("error")
    assert err["code"] == 413 and err["error_id"] == "message_too_large"
    await v.send(type="attachment", client_id="f1", name="a.png", mime="image/png",
                 data=base64.b64encode(PNG * 30).decode())
    assert (await v.expect("error"))["code"] == 413
    await v.send(type="attachment", client_id="f2", name="a.png", mime="image/png",
                 data=base64.b64encode(b"<html>").decode())
    assert (await v.expect("error"))["code"] == 415
    # a frame above the protocol limit closes the connection
    await v.send(type="attachment", client_id="f3", name="a.png", mime="image/png",
                 data="A" * 100_000)
    with pytest.raises(ConnectionClosed):
        await v.expect("never")
    # a good one is stored and downloadable by the agent, as an attachment only
    v2, _ = await open_visitor(gw, resume=(await _resume(gw, conv)))
    await v2.send(type="attachment", client_id="f4", name="shot.png", mime="image/png",
                  data=base64.b64encode(PNG).decode())
    ack = await v2.expect("ack")
    mid = ack["message"]["id"]
    r = await api.as_("agent1", "GET", f"/chats/{conv.id}/attachments/{mid}")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    await v2.close()


async def _resume(gw: ChatGateway, conv) -> str:
    from gateways.chat.conversation import resume_token

    return resume_token(gw._key, conv.id, gw.clock())


async def test_offline_message_becomes_a_contact(api, gw: ChatGateway,
                                                 chat_server: Server) -> None:
    v, welcome = await open_visitor(gw, entry="sales")  # nobody logged in
    assert welcome["state"] == "offline"
    await v.send(type="message", client_id="x", text="anyone?")
    assert (await v.expect("error"))["error_id"] == "offline"
    await v.send(type="leave_message", text="Please call me back", name="Ann",
                 email="ann@example.com")
    await v.expect("ended", reason="message_left")
    conv = gw.find("demo", welcome["conversation"])
    row = await chat_server.store.get_contact(conv.contact_id)
    assert row["channel"] == "message" and row["queue"] == "sales"
    assert row["data"]["message"] == "Please call me back"
    assert row["customer"]["email"] == "ann@example.com"
    await v.close()


async def test_topic_routes_to_its_queue_and_queue_position(api, gw: ChatGateway) -> None:
    await ready_agent(api, "agent4")
    await api.as_("agent4", "PUT", "/agents/agent4/state", json={"state": "not_ready"})
    v1, w1 = await open_visitor(gw, form={"topic": "billing"})
    v2, w2 = await open_visitor(gw, form={"topic": "billing"})
    assert gw.find("demo", w1["conversation"]).queue == "support"
    assert (w1["position"], w2["position"]) == (1, 2)
    assert w2["ewt_s"] > w1["ewt_s"] > 0
    await v1.send(type="end")
    await v2.close()
    await v1.close()


async def test_transfer_between_agents_keeps_the_conversation(api, gw: ChatGateway) -> None:
    v, _, conv = await connected_chat(api, gw)
    await ready_agent(api, "agent2")
    await v.send(type="message", client_id="1", text="need billing")
    await v.expect("ack")
    old = conv.contact_id
    r = await api.as_("agent1", "POST", f"/ui/contacts/{old}/transfer",
                      json={"to_agent": "agent2", "notes": "billing question"})
    assert r.status_code == 200, r.text
    await v.expect("transferring")
    assert conv.contact_id == r.json()["new_contact_id"] and conv.state == "waiting"
    r = await api.as_("agent2", "POST", f"/contacts/{conv.contact_id}/accept")
    assert r.status_code == 200, r.text
    assert (await v.expect("agent_joined"))["agent"] == "Agent 2"
    r = await api.as_("agent2", "GET", f"/chats/{conv.id}")
    assert [m["text"] for m in r.json()["messages"]] == ["need billing"]
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/messages", json={"text": "x"})
    assert r.status_code == 403
    await v.close()


async def test_transcript_is_emailed_through_the_relay(api, gw: ChatGateway, relay) -> None:
    r_, _ = relay
    v, _, conv = await connected_chat(api, gw)
    await v.send(type="message", client_id="1", text="my order 42")
    await v.expect("ack")
    await api.as_("agent1", "POST", f"/chats/{conv.id}/messages", json={"text": "shipped"})
    await v.send(type="transcript", email="mei@example.com")
    await v.expect("transcript_sent")
    env = r_.envelopes[0]
    assert env.rcpt_tos == ["mei@example.com"] and env.mail_from == "chat@demo.test"
    body = env.content.decode()
    assert "Mei: my order 42" in body and "Agent: shipped" in body
    r = await api.as_("agent1", "POST", f"/chats/{conv.id}/transcript", json={})
    assert r.status_code == 200 and r.json()["sent_to"] == "mei@example.com"
    assert len(r_.envelopes) == 2
    await v.close()


async def test_canned_responses_and_list(api, gw: ChatGateway) -> None:
    v, _, conv = await connected_chat(api, gw)
    r = await api.as_("agent1", "GET", "/chats")
    body = r.json()
    assert [c["id"] for c in body["chats"]] == [conv.id]
    assert body["canned"][0] == "Hello, how can I help?"
    r = await api.as_("agent2", "GET", "/chats")
    assert r.json()["chats"] == []
    await v.close()


async def test_widget_script_is_served(gw: ChatGateway) -> None:
    import httpx

    async with httpx.AsyncClient() as c:
        r = await c.get(f"http://127.0.0.1:{gw.port}/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "textContent" in r.text and "innerHTML" not in r.text


async def test_conversation_survives_a_server_restart(api, gw: ChatGateway,
                                                      chat_server: Server, relay) -> None:
    from .conftest import chat_settings

    v, welcome, conv = await connected_chat(api, gw)
    await v.send(type="message", client_id="1", text="before the crash")
    await v.expect("ack")
    await v.close()
    await chat_server.stop()
    again = Server(chat_settings(relay[1]), chat_server.data_dir)
    gw2 = ChatGateway()
    again.add_gateway(gw2)
    await again.start()
    try:
        v2, w2 = await open_visitor(gw2, resume=welcome["resume"])
        assert w2["conversation"] == conv.id
        assert [m["text"] for m in w2["messages"]] == ["before the crash"]
        # the chat went back to its queue with the restart; it waits for an agent again
        assert w2["state"] == "waiting"
        assert again.engine.contact_view(conv.contact_id)["state"] in ("queued", "offered")
        await v2.send(type="message", client_id="1", text="before the crash")
        ack = await v2.expect("ack")  # the old client id still maps to the stored copy
        assert ack["message"]["seq"] == 1
        await v2.close()
    finally:
        await again.stop()
        chat_server.store = None  # already stopped: the fixture's stop() is a no-op
