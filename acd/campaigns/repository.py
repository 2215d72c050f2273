"""Campaigns in the store: definitions, leads, imports, do-not-call lists, audit, results.

:class:`CampaignRepository` wraps an open :class:`acd.store.Store` and writes through the
store's own write transactions (serialized on SQLite), so a whole list import is one
commit: either every accepted lead is in, or none is. Every query is scoped by tenant;
a campaign id of another tenant is simply not found.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from acd.dialer import events as dev
from acd.dialer.model import Lead

from . import importer
from .model import CampaignError, CampaignSpec, CampaignState, editable, next_state
from .tables import (
    GLOBAL_DNC,
    campaign_imports,
    campaign_leads,
    campaign_results,
    campaigns,
    dial_audit,
    dnc_numbers,
)

LEAD_FILTERS = ("segment", "region", "status")


def _campaign_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "tenant": row["tenant"], "state": row["state"],
            "state_reason": row["state_reason"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], **row["spec"]}


class CampaignRepository:
    def __init__(self, store: Any) -> None:
        self.store = store

    # ------------------------------------------------------------------ campaigns

    async def create(self, tenant: str, spec: CampaignSpec, now: float,
                     campaign_id: str | None = None) -> dict[str, Any]:
        cid = campaign_id or "c" + uuid.uuid4().hex[:10]
        async with self.store.transaction() as conn:
            exists = (await conn.execute(sa.select(campaigns.c.id).where(
                campaigns.c.tenant == tenant, campaigns.c.id == cid))).first()
            if exists:
                raise CampaignError(409, "campaign_exists", f"campaign {cid} exists")
            await conn.execute(campaigns.insert().values(
                tenant=tenant, id=cid, state=CampaignState.DRAFT.value,
                spec=spec.model_dump(mode="json"), created_at=now, updated_at=now))
        return await self.get(tenant, cid)

    async def get(self, tenant: str, campaign_id: str) -> dict[str, Any]:
        row = await self.store.fetch_one(sa.select(campaigns).where(
            campaigns.c.tenant == tenant, campaigns.c.id == campaign_id))
        if row is None:
            raise CampaignError(404, "campaign_not_found", f"no campaign {campaign_id}")
        return _campaign_out(row)

    async def spec(self, tenant: str, campaign_id: str) -> CampaignSpec:
        c = await self.get(tenant, campaign_id)
        fields = {k: v for k, v in c.items() if k in CampaignSpec.model_fields}
        return CampaignSpec.model_validate(fields)

    async def list(self, tenant: str | None = None,
                   state: CampaignState | None = None) -> list[dict[str, Any]]:
        stmt = sa.select(campaigns).order_by(campaigns.c.tenant, campaigns.c.created_at)
        if tenant is not None:
            stmt = stmt.where(campaigns.c.tenant == tenant)
        if state is not None:
            stmt = stmt.where(campaigns.c.state == state.value)
        return [_campaign_out(r) for r in await self.store.fetch_all(stmt)]

    async def update(self, tenant: str, campaign_id: str, spec: CampaignSpec,
                     now: float) -> dict[str, Any]:
        current = await self.get(tenant, campaign_id)
        if not editable(CampaignState(current["state"])):
            raise CampaignError(409, "campaign_running",
                                "pause the campaign before editing it")
        async with self.store.transaction() as conn:
            await conn.execute(campaigns.update().where(
                campaigns.c.tenant == tenant, campaigns.c.id == campaign_id
            ).values(spec=spec.model_dump(mode="json"), updated_at=now))
        return await self.get(tenant, campaign_id)

    async def delete(self, tenant: str, campaign_id: str) -> None:
        current = await self.get(tenant, campaign_id)
        if current["state"] == CampaignState.RUNNING.value:
            raise CampaignError(409, "campaign_running", "stop the campaign before deleting it")
        async with self.store.transaction() as conn:
            for table in (campaign_leads, campaign_imports):
                await conn.execute(table.delete().where(
                    table.c.tenant == tenant, table.c.campaign_id == campaign_id))
            await conn.execute(campaigns.delete().where(
                campaigns.c.tenant == tenant, campaigns.c.id == campaign_id))

    async def transition(self, tenant: str, campaign_id: str, action: str, now: float,
                         reason: str | None = None) -> dict[str, Any]:
        """Apply a life-cycle action (the table in :mod:`.model` decides)."""
        async with self.store.transaction() as conn:
            row = (await conn.execute(sa.select(campaigns.c.state).where(
                campaigns.c.tenant == tenant, campaigns.c.id == campaign_id))).first()
            if row is None:
                raise CampaignError(404, "campaign_not_found", f"no campaign {campaign_id}")
            new = next_state(CampaignState(row[0]), action)
            await conn.execute(campaigns.update().where(
                campaigns.c.tenant == tenant, campaigns.c.id == campaign_id
            ).values(state=new.value, updated_at=now, state_reason=reason or action))
        return await self.get(tenant, campaign_id)

    # ------------------------------------------------------------------ do-not-call

    async def dnc_add(self, tenant: str, phones: Iterable[str], now: float,
                      source: str = "") -> list[str]:
        """Add E.164 numbers (``tenant="*"``: the global list); returns those added."""
        added = []
        async with self.store.transaction() as conn:
            for phone in dict.fromkeys(phones):
                found = (await conn.execute(sa.select(dnc_numbers.c.phone).where(
                    dnc_numbers.c.tenant == tenant, dnc_numbers.c.phone == phone))).first()
                if found is None:
                    await conn.execute(dnc_numbers.insert().values(
                        tenant=tenant, phone=phone, added_at=now, source=source))
                    added.append(phone)
        return added

    async def dnc_remove(self, tenant: str, phones: Iterable[str]) -> list[str]:
        removed = []
        async with self.store.transaction() as conn:
            for phone in dict.fromkeys(phones):
                r = await conn.execute(dnc_numbers.delete().where(
                    dnc_numbers.c.tenant == tenant, dnc_numbers.c.phone == phone))
                if r.rowcount:
                    removed.append(phone)
        return removed

    async def dnc_list(self, tenant: str) -> list[dict[str, Any]]:
        return await self.store.fetch_all(sa.select(dnc_numbers).where(
            dnc_numbers.c.tenant == tenant).order_by(dnc_numbers.c.phone))

    async def dnc_numbers_for(self, tenant: str) -> set[str]:
        """The tenant's list and the global one: what a tenant's campaigns must not call."""
        rows = await self.store.fetch_all(sa.select(dnc_numbers.c.phone).where(
            dnc_numbers.c.tenant.in_([tenant, GLOBAL_DNC])))
        return {r["phone"] for r in rows}

    # ------------------------------------------------------------------ imports

    async def import_list(self, tenant: str, campaign_id: str, data: bytes, *,
                          mapping: Mapping[str, str], filename: str = "",
                          content_type: str = "", on_error: str = "reject",
                          list_priority: int = 0, now: float) -> dict[str, Any]:
        """Import a CSV/XLSX list; returns the stored report (see :mod:`.importer`).

        A number already in the campaign is merged into the existing lead (its data
        updated, its attempts and status kept)."""
        spec = await self.spec(tenant, campaign_id)
        rows = importer.read_table(data, filename, content_type)
        plan = importer.plan_import(
            rows, mapping, default_region=spec.default_region, default_tz=spec.default_tz,
            dnc=await self.dnc_numbers_for(tenant), on_error=on_error,
            list_priority=list_priority)
        import_id = "i" + uuid.uuid4().hex[:10]
        report = plan.report()
        report.update({"id": import_id, "campaign_id": campaign_id, "filename": filename,
                       "at": now, "created": 0, "updated": 0})
        async with self.store.transaction() as conn:
            if not plan.rejected:
                existing = {r[0]: r[1] for r in (await conn.execute(
                    sa.select(campaign_leads.c.phone, campaign_leads.c.data).where(
                        campaign_leads.c.tenant == tenant,
                        campaign_leads.c.campaign_id == campaign_id))).all()}
                new_rows = []
                for lead in plan.leads:
                    if lead.phone in existing:
                        merged = {**existing[lead.phone], **lead.data}
                        await conn.execute(campaign_leads.update().where(
                            campaign_leads.c.tenant == tenant,
                            campaign_leads.c.campaign_id == campaign_id,
                            campaign_leads.c.phone == lead.phone,
                        ).values(data=merged, segment=lead.segment or campaign_leads.c.segment,
                                 priority=lead.priority, tz=lead.tz))
                        report["updated"] += 1
                        continue
                    new_rows.append({
                        "tenant": tenant, "campaign_id": campaign_id, "id": lead.id,
                        "phone": lead.phone, "tz": lead.tz, "region": lead.region,
                        "segment": lead.segment, "priority": lead.priority,
                        "status": "pending", "attempts": 0, "not_before": 0.0,
                        "import_id": import_id, "created_at": now, "line": lead.line,
                        "data": lead.data})
                if new_rows:
                    await conn.execute(campaign_leads.insert(), new_rows)
                report["created"] = len(new_rows)
            await conn.execute(campaign_imports.insert().values(
                tenant=tenant, id=import_id, campaign_id=campaign_id, at=now,
                filename=filename[:300], report=report))
        return report

    async def import_report(self, tenant: str, campaign_id: str,
                            import_id: str) -> dict[str, Any]:
        row = await self.store.fetch_one(sa.select(campaign_imports).where(
            campaign_imports.c.tenant == tenant, campaign_imports.c.campaign_id == campaign_id,
            campaign_imports.c.id == import_id))
        if row is None:
            raise CampaignError(404, "import_not_found", f"no import {import_id}")
        return dict(row["report"])

    async def imports(self, tenant: str, campaign_id: str) -> list[dict[str, Any]]:
        rows = await self.store.fetch_all(sa.select(campaign_imports).where(
            campaign_imports.c.tenant == tenant, campaign_imports.c.campaign_id == campaign_id
        ).order_by(campaign_imports.c.at))
        return [{"id": r["id"], "at": r["at"], "filename": r["filename"],
                 "accepted": r["report"].get("accepted"), "rejected": r["report"].get("rejected"),
                 "errors": len(r["report"].get("errors", []))} for r in rows]

    # ------------------------------------------------------------------ leads

    async def leads(self, tenant: str, campaign_id: str, *, segment: str | None = None,
                    region: str | None = None, status: str | None = None,
                    contacted_before: float | None = None, contacted_after: float | None = None,
                    never_contacted: bool = False, limit: int = 500,
                    offset: int = 0) -> list[dict[str, Any]]:
        t = campaign_leads
        stmt = sa.select(t).where(t.c.tenant == tenant, t.c.campaign_id == campaign_id)
        if segment is not None:
            stmt = stmt.where(t.c.segment == segment)
        if region is not None:
            stmt = stmt.where(t.c.region == region.upper())
        if status is not None:
            stmt = stmt.where(t.c.status == status)
        if never_contacted:
            stmt = stmt.where(t.c.last_contact_at.is_(None))
        if contacted_before is not None:
            stmt = stmt.where(t.c.last_contact_at < contacted_before)
        if contacted_after is not None:
            stmt = stmt.where(t.c.last_contact_at >= contacted_after)
        # file order within a priority: the manager's list order is the dialling order
        stmt = stmt.order_by(t.c.priority, t.c.created_at, t.c.line, t.c.id)
        stmt = stmt.limit(limit).offset(offset)
        return await self.store.fetch_all(stmt)

    async def lead(self, tenant: str, campaign_id: str, lead_id: str) -> dict[str, Any]:
        row = await self.store.fetch_one(sa.select(campaign_leads).where(
            campaign_leads.c.tenant == tenant, campaign_leads.c.campaign_id == campaign_id,
            campaign_leads.c.id == lead_id))
        if row is None:
            raise CampaignError(404, "lead_not_found", f"no lead {lead_id}")
        return row

    async def dialable_leads(self, tenant: str, campaign_id: str,
                             spec: CampaignSpec) -> list[Lead]:
        """Open leads as the pacer takes them (campaign priority, then lead priority)."""
        rows = await self.leads(tenant, campaign_id, status="pending", limit=1_000_000)
        return [Lead(id=r["id"], phone=r["phone"], tz=r["tz"], attempts=r["attempts"],
                     not_before=r["not_before"], last_abandoned_at=r["last_abandoned_at"],
                     priority=r["priority"], data=dict(r["data"])) for r in rows]

    async def apply_lead_notices(self, tenant: str, campaign_id: str,
                                 notices: Sequence[Any], now: float) -> None:
        """Pacer ``ScheduleRetry`` / ``LeadClosed`` / ``Audit`` into lead and audit rows."""
        t = campaign_leads
        async with self.store.transaction() as conn:
            for n in notices:
                where = (t.c.tenant == tenant, t.c.campaign_id == campaign_id,
                         t.c.id == n.lead_id)
                if isinstance(n, dev.ScheduleRetry):
                    await conn.execute(t.update().where(*where).values(
                        not_before=n.at, attempts=n.attempts, last_outcome=n.outcome.value,
                        status="pending"))
                elif isinstance(n, dev.LeadClosed):
                    await conn.execute(t.update().where(*where).values(
                        status="closed", close_reason=n.reason, attempts=n.attempts))
                elif isinstance(n, dev.Audit):
                    values: dict[str, Any] = {"last_contact_at": n.at,
                                              "last_outcome": n.outcome.value}
                    if n.abandoned:
                        values["last_abandoned_at"] = n.answered_at or n.at
                    await conn.execute(t.update().where(*where).values(**values))
                    await conn.execute(dial_audit.insert().values(
                        tenant=tenant, campaign_id=campaign_id, **audit_row(n)))

    async def add_audit_note(self, tenant: str, campaign_id: str, *, at: float,
                             call_id: str | None, lead_id: str, phone: str, tz: str,
                             mode: str, outcome: str, note: str) -> None:
        """An audit row the pacer did not write (e.g. a dial the voice side could not
        place)."""
        from acd.dialer.windows import local_iso

        async with self.store.transaction() as conn:
            await conn.execute(dial_audit.insert().values(
                tenant=tenant, campaign_id=campaign_id, at=at, call_id=call_id,
                lead_id=lead_id, phone=phone, lead_local_time=local_iso(at, tz), tz=tz,
                dnc_checked=True, dnc_listed=False, mode=mode, outcome=outcome,
                abandoned=False, played=None, agent_id=None, ended_at=at, note=note))

    async def audit(self, tenant: str, campaign_id: str, *, since: float | None = None,
                    limit: int = 1000) -> list[dict[str, Any]]:
        stmt = sa.select(dial_audit).where(dial_audit.c.tenant == tenant,
                                           dial_audit.c.campaign_id == campaign_id)
        if since is not None:
            stmt = stmt.where(dial_audit.c.at >= since)
        return await self.store.fetch_all(stmt.order_by(dial_audit.c.seq).limit(limit))

    async def abandon_history(self, tenant: str, campaign_id: str,
                              since: float) -> list[tuple[float, bool]]:
        """(answer time, abandoned) of live answers since ``since``: the governor's memory
        across restarts."""
        rows = await self.store.fetch_all(sa.select(
            dial_audit.c.at, dial_audit.c.answered_at, dial_audit.c.abandoned,
            dial_audit.c.outcome).where(
            dial_audit.c.tenant == tenant, dial_audit.c.campaign_id == campaign_id,
            dial_audit.c.at >= since, dial_audit.c.outcome.in_(("connected", "abandoned",
                                                                 "callback_requested"))))
        return sorted((r["answered_at"] or r["at"], bool(r["abandoned"])) for r in rows)

    # ------------------------------------------------------------------ results

    async def save_result(self, tenant: str, campaign_id: str, lead_id: str, *,
                          disposition: str, answers: Mapping[str, Any],
                          agent_id: str | None, notes: str | None, now: float) -> dict[str, Any]:
        spec = await self.spec(tenant, campaign_id)
        await self.lead(tenant, campaign_id, lead_id)
        if disposition not in spec.dispositions:
            raise CampaignError(422, "unknown_disposition",
                                f"{disposition!r} is not a disposition of this campaign",
                                allowed=spec.dispositions)
        try:
            checked = spec.check_answers(answers)
        except ValueError as exc:
            raise CampaignError(422, "bad_answer", str(exc)) from None
        async with self.store.transaction() as conn:
            await conn.execute(campaign_results.insert().values(
                tenant=tenant, campaign_id=campaign_id, lead_id=lead_id, at=now,
                agent_id=agent_id, disposition=disposition, answers=checked, notes=notes))
            await conn.execute(campaign_leads.update().where(
                campaign_leads.c.tenant == tenant, campaign_leads.c.campaign_id == campaign_id,
                campaign_leads.c.id == lead_id).values(disposition=disposition))
        return {"lead_id": lead_id, "disposition": disposition, "answers": checked, "at": now}

    async def results(self, tenant: str, campaign_id: str) -> list[dict[str, Any]]:
        return await self.store.fetch_all(sa.select(campaign_results).where(
            campaign_results.c.tenant == tenant,
            campaign_results.c.campaign_id == campaign_id).order_by(campaign_results.c.seq))

    async def summary(self, tenant: str, campaign_id: str) -> dict[str, Any]:
        """Counts for the manager page: leads by status, attempts by outcome, results by
        disposition and by survey answer."""
        spec = await self.spec(tenant, campaign_id)
        lt = campaign_leads
        n = sa.func.count().label("n")
        status_rows = await self.store.fetch_all(sa.select(lt.c.status, n).where(
            lt.c.tenant == tenant, lt.c.campaign_id == campaign_id).group_by(lt.c.status))
        out_rows = await self.store.fetch_all(sa.select(dial_audit.c.outcome, n).where(
            dial_audit.c.tenant == tenant, dial_audit.c.campaign_id == campaign_id
        ).group_by(dial_audit.c.outcome))
        by_disp: dict[str, int] = {d: 0 for d in spec.dispositions}
        by_answer: dict[str, dict[str, int]] = {q.id: {} for q in spec.survey}
        for r in await self.results(tenant, campaign_id):
            by_disp[r["disposition"]] = by_disp.get(r["disposition"], 0) + 1
            for qid, value in (r["answers"] or {}).items():
                bucket = by_answer.setdefault(qid, {})
                bucket[str(value)] = bucket.get(str(value), 0) + 1
        return {
            "leads": {r["status"]: r["n"] for r in status_rows},
            "attempts": {r["outcome"]: r["n"] for r in out_rows},
            "dispositions": by_disp, "answers": by_answer,
        }

    async def results_csv(self, tenant: str, campaign_id: str) -> str:
        """One line per lead: number, status, attempts, last outcome, disposition and the
        latest survey answers (columns in the survey's order)."""
        spec = await self.spec(tenant, campaign_id)
        latest: dict[str, dict[str, Any]] = {}
        for r in await self.results(tenant, campaign_id):
            latest[r["lead_id"]] = r
        buf = io.StringIO()
        w = csv.writer(buf)
        qids = [q.id for q in spec.survey]
        w.writerow(["lead_id", "phone", "tz", "segment", "region", "status", "attempts",
                    "last_outcome", "last_contact_at", "disposition", *qids])
        for lead in await self.leads(tenant, campaign_id, limit=10_000_000):
            res = latest.get(lead["id"], {})
            answers = res.get("answers") or {}
            w.writerow([lead["id"], lead["phone"], lead["tz"], lead["segment"], lead["region"],
                        lead["status"], lead["attempts"], lead["last_outcome"] or "",
                        lead["last_contact_at"] or "", lead["disposition"] or "",
                        *[_csv_safe(answers.get(q, "")) for q in qids]])
        return buf.getvalue()


def _csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def audit_row(a: dev.Audit) -> dict[str, Any]:
    return {"at": a.at, "call_id": a.call_id, "lead_id": a.lead_id, "phone": a.phone,
            "lead_local_time": a.lead_local_time, "tz": a.tz, "dnc_checked": a.dnc_checked,
            "dnc_listed": a.dnc_listed, "mode": a.mode.value, "outcome": a.outcome.value,
            "abandoned": a.abandoned, "played": a.played, "agent_id": a.agent_id,
            "ended_at": a.ended_at, "answered_at": a.answered_at,
            "connected_at": a.connected_at, "note": None}
