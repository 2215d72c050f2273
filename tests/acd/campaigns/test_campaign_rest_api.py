"""REST /api/v1/campaigns: CRUD, life cycle, imports and their reports, results, export,
do-not-call lists, roles and tenant isolation."""

from __future__ import annotations

import csv
import io
import json

from acd import events as ev
from acd.dialer import events as dev
from acd.dialer.model import AnswerKind

from .conftest import spec_body

CSV = ("Name,Phone,Zone,Seg\n"
       "Ann,(415) 555-2671,,gold\n"
       "Bob,+44 20 7946 0958,,silver\n"
       "Ann again,415.555.2671,,\n"
       "Cid,12,,gold\n")
MAP = json.dumps({"first_name": "Name", "phone": "Phone", "tz": "Zone", "segment": "Seg"})


async def _create(api, user="supervisor", **kw):
    r = await api.as_(user, "POST", "/campaigns", json={"id": "c1", **spec_body(**kw)})
    assert r.status_code == 201, r.text
    return r.json()


async def test_crud_and_life_cycle(api) -> None:
    c = await _create(api)
    assert (c["id"], c["state"], c["mode"], c["tenant"]) == ("c1", "draft", "progressive",
                                                             "demo")
    r = await api.as_("supervisor", "POST", "/campaigns", json={"id": "c1", **spec_body()})
    assert (r.status_code, r.json()["error_id"]) == (409, "campaign_exists")
    r = await api.as_("supervisor", "PUT", "/campaigns/c1",
                      json=spec_body(name="Renamed", mode="preview"))
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    r = await api.as_("supervisor", "PUT", "/campaigns/c1",
                      json=spec_body(windows=[{"start": "22:00", "end": "08:00"}]))
    assert (r.status_code, r.json()["error_id"]) == (422, "validation_error")
    assert [x["id"] for x in (await api.as_("admin", "GET", "/campaigns")).json()
            ["campaigns"]] == ["c1"]

    r = await api.as_("supervisor", "POST", "/campaigns/c1/pause")
    assert (r.status_code, r.json()["error_id"]) == (409, "illegal_transition")
    r = await api.as_("supervisor", "POST", "/campaigns/c1/start")
    assert r.status_code == 200 and r.json()["state"] == "running"
    r = await api.as_("supervisor", "PUT", "/campaigns/c1", json=spec_body())
    assert (r.status_code, r.json()["error_id"]) == (409, "campaign_running")
    r = await api.as_("supervisor", "DELETE", "/campaigns/c1")
    assert r.status_code == 409
    for action, state in (("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        r = await api.as_("supervisor", "POST", f"/campaigns/c1/{action}")
        assert r.json()["state"] == state
    assert (await api.as_("supervisor", "POST", "/campaigns/c1/resume")).status_code == 409
    assert (await api.as_("supervisor", "POST", "/campaigns/c1/explode")).status_code == 404
    assert (await api.as_("supervisor", "DELETE", "/campaigns/c1")).status_code == 204
    assert (await api.as_("supervisor", "GET", "/campaigns/c1")).status_code == 404


async def test_roles_and_tenant_isolation(api) -> None:
    await _create(api)
    assert (await api.as_("agent1", "GET", "/campaigns")).status_code == 403
    assert (await api.as_("agent1", "POST", "/campaigns", json=spec_body())).status_code == 403
    # acme's admin sees nothing of demo's campaign, and cannot touch it
    assert (await api.as_("admin@acme", "GET", "/campaigns")).json()["campaigns"] == []
    for method, path in (("GET", "/campaigns/c1"), ("POST", "/campaigns/c1/start"),
                         ("DELETE", "/campaigns/c1"), ("GET", "/campaigns/c1/leads"),
                         ("GET", "/campaigns/c1/export.csv"),
                         ("GET", "/campaigns/c1/progress")):
        r = await api.as_("admin@acme", method, path)
        assert r.status_code == 404, (method, path, r.text)
    # the same id in another tenant is another campaign
    r = await api.as_("admin@acme", "POST", "/campaigns",
                      json={"id": "c1", **spec_body(queue="claims")})
    assert r.status_code == 201
    assert (await api.as_("supervisor", "GET", "/campaigns/c1")).json()["queue"] == "sales"


async def test_import_report_and_lead_filters(api) -> None:
    await _create(api)
    r = await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}"
                      "&filename=leads.csv", content=CSV.encode())
    assert r.status_code == 201
    rep = r.json()
    assert rep["rejected"] and rep["accepted"] == 0           # one bad row: whole file out
    assert [(e["line"], e["value"]) for e in rep["errors"]] == [(5, "12")]
    assert (await api.as_("supervisor", "GET", "/campaigns/c1/leads")).json()["leads"] == []

    r = await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}"
                      "&on_error=skip", content=CSV.encode())
    rep = r.json()
    assert (rep["accepted"], rep["created"], rep["rejected"]) == (2, 2, False)
    assert rep["duplicates"] == [{"line": 4, "merged_into": 2, "phone": "+14155552671"}]
    stored = (await api.as_("supervisor", "GET", f"/campaigns/c1/imports/{rep['id']}")).json()
    assert stored["errors"] == rep["errors"]
    imports = (await api.as_("supervisor", "GET", "/campaigns/c1/imports")).json()["imports"]
    assert len(imports) == 2

    leads = (await api.as_("supervisor", "GET", "/campaigns/c1/leads")).json()["leads"]
    assert {lead["phone"] for lead in leads} == {"+14155552671", "+442079460958"}
    assert {lead["priority"] for lead in leads} == {0}
    more = await api.as_("supervisor", "POST", "/campaigns/c1/imports?priority=-2"
                         '&mapping={"phone":"Phone"}', content=b"Phone\n+1 212 555 0142\n")
    assert more.json()["created"] == 1
    leads = (await api.as_("supervisor", "GET", "/campaigns/c1/leads")).json()["leads"]
    assert (leads[0]["phone"], leads[0]["priority"]) == ("+12125550142", -2)
    gold = (await api.as_("supervisor", "GET", "/campaigns/c1/leads?segment=gold")).json()
    assert [x["phone"] for x in gold["leads"]] == ["+14155552671"]
    gb = (await api.as_("supervisor", "GET", "/campaigns/c1/leads?region=gb")).json()
    assert [x["tz"] for x in gb["leads"]] == ["Europe/London"]
    never = await api.as_("supervisor", "GET", "/campaigns/c1/leads?never_contacted=true")
    assert len(never.json()["leads"]) == 3

    r = await api.as_("supervisor", "POST", "/campaigns/c1/imports?mapping={\"phone\":\"Tel\"}",
                      content=CSV.encode())
    assert (r.status_code, r.json()["error_id"]) == (422, "missing_column")
    r = await api.as_("supervisor", "POST", "/campaigns/c1/imports?mapping={\"fax\":\"Phone\"}",
                      content=CSV.encode())
    assert (r.status_code, r.json()["error_id"]) == (422, "bad_mapping")


async def test_dnc_lists_refuse_numbers_at_import(api) -> None:
    await _create(api)
    r = await api.as_("supervisor", "POST", "/dnc/tenant",
                      json={"numbers": ["(415) 555-2671"], "region": "US"})
    assert r.json() == {"added": ["+14155552671"]}
    assert (await api.as_("supervisor", "POST", "/dnc/global",
                          json={"numbers": ["+442079460958"]})).status_code == 403
    r = await api.as_("admin", "POST", "/dnc/global", json={"numbers": ["+44 20 7946 0958"]})
    assert r.json() == {"added": ["+442079460958"]}          # demo is the operator tenant
    assert (await api.as_("admin@acme", "POST", "/dnc/global",
                          json={"numbers": ["+14155550000"]})).status_code == 403
    r = await api.as_("supervisor", "POST", "/dnc/tenant", json={"numbers": ["garbage"]})
    assert (r.status_code, r.json()["error_id"]) == (422, "bad_numbers")

    rep = (await api.as_("supervisor", "POST",
                         f"/campaigns/c1/imports?mapping={MAP}&on_error=skip",
                         content=CSV.encode())).json()
    assert {d["phone"] for d in rep["dnc"]} == {"+14155552671", "+442079460958"}
    assert rep["created"] == 0
    # acme's list is its own
    assert (await api.as_("admin@acme", "GET", "/dnc/tenant")).json()["numbers"] == []
    r = await api.as_("supervisor", "POST", "/dnc/tenant/remove",
                      json={"numbers": ["+14155552671"]})
    assert r.json() == {"removed": ["+14155552671"]}


async def test_results_progress_and_csv_export(api, served, dialer) -> None:
    server, runner = served
    await _create(api, survey=[
        {"id": "interested", "text": "Interested?", "type": "yes_no"},
        {"id": "plan", "text": "Plan?", "type": "choice", "options": ["basic", "pro"]}],
        script=[{"id": "s1", "text": "Hi {first_name}", "question": "interested"}])
    await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}&on_error=skip",
                  content=CSV.encode())
    assert (await api.as_("supervisor", "POST", "/campaigns/c1/start")).status_code == 200
    server.handle(ev.AgentLoggedIn("agent1", "webrtc", "taipei"))
    server.handle(ev.AgentWentReady("agent1"))
    d = dialer.dials[0][0]
    runner.call_event(d.call_id, dev.CallAnswered(d.call_id, AnswerKind.HUMAN))
    runner.call_event(d.call_id, dev.CallEnded(d.call_id, disposition="sale"))

    script = (await api.as_("agent1", "GET", f"/campaigns/c1/leads/{d.lead_id}/script")).json()
    assert script["steps"][0]["text"].startswith("Hi ")
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{d.lead_id}/result",
                      json={"disposition": "sale", "answers": {"interested": True,
                                                                "plan": "pro"}})
    assert r.status_code == 201 and r.json()["answers"] == {"interested": "yes", "plan": "pro"}
    assert len(dialer.dials) == 2                # wrap-up over: agent1 gets the next lead
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{d.lead_id}/result",
                      json={"disposition": "bribe"})
    assert (r.status_code, r.json()["error_id"]) == (422, "unknown_disposition")
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{d.lead_id}/result",
                      json={"disposition": "sale", "answers": {"plan": "gold"}})
    assert (r.status_code, r.json()["error_id"]) == (422, "bad_answer")
    assert (await api.as_("acme1@acme", "POST", f"/campaigns/c1/leads/{d.lead_id}/result",
                          json={"disposition": "sale"})).status_code == 404

    await runner.flush()
    prog = (await api.as_("supervisor", "GET", "/campaigns/c1/progress")).json()
    assert prog["state"] == "running" and prog["live"]["live"]
    assert prog["live"]["dialed"] == 2 and prog["live"]["connected"] == 1
    assert prog["live"]["calls_in_flight"] == 1
    assert set(prog["live"]["abandon_pct"]) == {"24h", "30d"}
    assert prog["dispositions"]["sale"] == 1
    assert prog["answers"] == {"interested": {"yes": 1}, "plan": {"pro": 1}}
    assert prog["attempts"] == {"connected": 1}
    audit = (await api.as_("supervisor", "GET", "/campaigns/c1/audit")).json()["audit"]
    assert [a["outcome"] for a in audit] == ["connected"]

    r = await api.as_("supervisor", "GET", "/campaigns/c1/export.csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    done = next(x for x in rows if x["lead_id"] == d.lead_id)
    assert (done["disposition"], done["interested"], done["plan"], done["status"]) == \
        ("sale", "yes", "pro", "closed")


async def test_do_not_call_disposition_lists_the_number(api) -> None:
    await _create(api)
    await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}&on_error=skip",
                  content=CSV.encode())
    lead = (await api.as_("supervisor", "GET", "/campaigns/c1/leads")).json()["leads"][0]
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{lead['id']}/result",
                      json={"disposition": "do_not_call"})
    assert r.status_code == 201
    numbers = (await api.as_("supervisor", "GET", "/dnc/tenant")).json()["numbers"]
    assert [n["phone"] for n in numbers] == [lead["phone"]]


async def test_preview_mode_through_the_api(api, served, dialer) -> None:
    server = served[0]
    await _create(api, mode="preview",
                  script=[{"id": "s1", "text": "Hello {first_name}"}])
    await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}&on_error=skip",
                  content=CSV.encode())
    await api.as_("supervisor", "POST", "/campaigns/c1/start")
    assert (await api.as_("agent1", "GET", "/campaigns/c1/preview")).json() == {"lead": None}
    server.handle(ev.AgentLoggedIn("agent1", "webrtc", "taipei"))
    server.handle(ev.AgentWentReady("agent1"))
    shown = (await api.as_("agent1", "GET", "/campaigns/c1/preview")).json()
    first = shown["lead"]["id"]
    assert shown["steps"][0]["text"].startswith("Hello ")
    assert dialer.dials == []                    # nothing dialled before the agent decides

    r = await api.as_("agent1", "POST", "/campaigns/c1/preview/nope/accept")
    assert (r.status_code, r.json()["error_id"]) == (404, "no_such_preview")
    r = await api.as_("agent1", "POST", f"/campaigns/c1/preview/{first}/skip")
    assert r.status_code == 200
    second = (await api.as_("agent1", "GET", "/campaigns/c1/preview")).json()["lead"]["id"]
    assert second != first
    r = await api.as_("agent1", "POST", f"/campaigns/c1/preview/{second}/accept")
    assert r.status_code == 200
    (d, _), = dialer.dials
    assert (d.lead_id, d.agent_id, d.mode.value) == (second, "agent1", "preview")
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{first}/dial")
    assert (r.status_code, r.json()["error_id"]) == (409, "wrong_mode")
    assert (await api.as_("supervisor", "GET", "/campaigns/c1/preview")).status_code == 403


async def test_manual_mode_dials_what_the_agent_asks(api, served, dialer) -> None:
    server = served[0]
    await _create(api, mode="manual")
    await api.as_("supervisor", "POST", f"/campaigns/c1/imports?mapping={MAP}&on_error=skip",
                  content=CSV.encode())
    lead = (await api.as_("supervisor", "GET", "/campaigns/c1/leads")).json()["leads"][1]
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{lead['id']}/dial")
    assert (r.status_code, r.json()["error_id"]) == (409, "campaign_not_running")
    await api.as_("supervisor", "POST", "/campaigns/c1/start")
    server.handle(ev.AgentLoggedIn("agent1", "webrtc", "taipei"))
    server.handle(ev.AgentWentReady("agent1"))
    assert dialer.dials == []
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{lead['id']}/dial")
    assert r.status_code == 200
    (d, _), = dialer.dials
    assert (d.phone, d.agent_id) == (lead["phone"], "agent1")
    r = await api.as_("agent1", "POST", f"/campaigns/c1/leads/{lead['id']}/dial")
    assert (r.status_code, r.json()["error_id"]) == (409, "agent_not_idle")
