"""IVR trees, statistics and traces; CRM customers for screen pops.

Served from ``server.ivr`` (:class:`acd.ivr_service.IvrService`) and ``server.crm``
(:class:`crm_bridge.provider.LookupProvider`), both set by their gateways at start. A
server started without one of them answers the matching routes with 503
``ivr_unavailable`` / ``crm_unavailable`` rather than failing at import.

Who may call what:

=======================================  ==========  =====================================
route                                    role        what
=======================================  ==========  =====================================
GET  /ivr/trees                          supervisor  the tenant's trees in force
GET  /ivr/{tree}/stats                   supervisor  visits, drop-offs, containment
POST /ivr/reload                         admin       re-read the tree files now
GET  /contacts/{id}/ivr                  any         the contact's IVR trace(s)
GET  /customers?phone=...                any         screen pop by phone (any spelling)
GET  /customers/{id}                     any         customer + accounts, invoices, payments
=======================================  ==========  =====================================
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from .deps import Admin, Caller, ServerDep, Supervisor
from .errors import ApiError

router = APIRouter()


def _ivr(server: Any) -> Any:
    svc = getattr(server, "ivr", None)
    if svc is None or svc.registry is None:
        raise ApiError(503, "ivr_unavailable", "the IVR service is not running")
    return svc


def _crm(server: Any) -> Any:
    crm = getattr(server, "crm", None)
    if crm is None:
        raise ApiError(503, "crm_unavailable", "the CRM bridge is not running")
    return crm


# ------------------------------------------------------------------------- IVR


@router.get("/ivr/trees")
async def ivr_trees(p: Supervisor, server: ServerDep) -> dict[str, Any]:
    svc = _ivr(server)
    return {"trees": svc.trees(p.tenant), "generation": svc.registry.generation}


@router.get("/ivr/{tree}/stats")
async def ivr_stats(tree: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    svc = _ivr(server)
    if svc.tree(p.tenant, tree) is None and tree not in svc.stats_trees(p.tenant):
        raise ApiError(404, "ivr_not_found", f"no IVR tree {tree!r} for this tenant")
    return svc.stats(p.tenant, tree).to_dict()  # type: ignore[no-any-return]


@router.post("/ivr/reload")
async def ivr_reload(p: Admin, server: ServerDep) -> dict[str, Any]:
    """Re-read every tree file. A file that does not validate is refused with its errors
    and the version loaded before stays in force; ``ok`` is false when anything was
    refused. Only the caller's tenant's trees (and files of no known owner, which may be
    theirs) are reported."""
    svc = _ivr(server)
    before = {n for n, t in svc.registry.trees.items() if t.tenant == p.tenant}
    report = await svc.reload(trigger="api")
    trees = svc.registry.trees
    mine = {n for n, t in trees.items() if t.tenant == p.tenant}
    # A refused file has no trusted tenant: show it unless it is another tenant's tree.
    refused = {n: errs for n, errs in report["refused"].items()
               if n in mine or n not in trees}
    return {"ok": not refused, "at": report["at"],
            "applied": [n for n in report["applied"] if n in mine],
            "unchanged": [n for n in report["unchanged"] if n in mine],
            "removed": [n for n in report["removed"] if n in before],
            "refused": refused, "generation": report["generation"],
            "trees": sorted(mine)}


@router.get("/contacts/{contact_id}/ivr")
async def contact_ivr(contact_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """What the caller did in the IVR before reaching an agent (the newest session last)."""
    svc = _ivr(server)
    traces = await svc.traces_for_contact(p.tenant, contact_id)
    if not traces:
        row = await server.store.get_contact(contact_id)
        if row is None or row["tenant"] != p.tenant:
            raise ApiError(404, "contact_not_found", f"no contact {contact_id!r}")
        raise ApiError(404, "ivr_trace_not_found",
                       f"contact {contact_id!r} has no IVR session on record")
    return {"contact_id": contact_id, "trace": traces[-1]["trace"],
            "sessions": [{"seq": t["seq"], "tree": t["tree"], "session_id": t["session_id"],
                          "outcome": t["outcome"], "at": t["at"]} for t in traces],
            "traces": [t["trace"] for t in traces]}


# ------------------------------------------------------------------------- customers


@router.get("/customers")
async def customers_by_phone(p: Caller, server: ServerDep,
                             phone: Annotated[str, Query(min_length=1, max_length=80)]
                             ) -> dict[str, Any]:
    """Screen pop: the customer calling from ``phone`` (``+1 212 555 0101``,
    ``2125550101``, ``sip:+12125550101@host`` all match). An empty list when unknown."""
    crm = _crm(server)
    found = await crm.customer_by_phone(p.tenant, phone)
    return {"phone": phone, "customers": [found] if found else []}


@router.get("/customers/{customer_id}")
async def customer(customer_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    crm = _crm(server)
    detail = await crm.repo.customer_detail(p.tenant, customer_id)
    if detail is None:
        raise ApiError(404, "customer_not_found", f"no customer {customer_id!r}")
    return detail  # type: ignore[no-any-return]
