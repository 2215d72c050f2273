"""Web chat for agents: /api/v1/chats.

``{chat_id}`` is a conversation id (``chat-...``) or the id of one of its contacts (what an
agent sees in an offer). Agents act on the conversations they hold; supervisors and
admins read any of their tenant's. Messages are idempotent by ``client_id``: posting the
same one twice stores and delivers it once (201 the first time, 200 after).

Errors: ``chat_unavailable`` (503), ``chat_not_found`` (404), ``forbidden`` (403),
``conversation_ended`` / ``bad_state`` (409), ``message_too_large`` (413),
``attachment_not_found`` (404), ``no_smtp`` (503), ``smtp_failed`` (502).
A transfer uses ``POST /ui/contacts/{contact_id}/transfer``: the conversation follows.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, Field

from acd.auth import Principal

from .deps import Caller, ServerDep
from .errors import ApiError

router = APIRouter()


class MessageIn(BaseModel):
    text: str = Field(min_length=1)
    client_id: str | None = Field(None, max_length=100)


class TypingIn(BaseModel):
    on: bool = True


class ReadIn(BaseModel):
    seq: int = Field(ge=0)


class TranscriptIn(BaseModel):
    email: str | None = Field(None, max_length=254)


def _gateway(server: Any) -> Any:
    for g in server.gateways:
        if getattr(g, "name", None) == "chat" and getattr(g, "started", False):
            return g
    raise ApiError(503, "chat_unavailable", "the chat service is not running")


async def _conv(server: Any, p: Principal, chat_id: str, *, act: bool = False) -> Any:
    gw = _gateway(server)
    conv = await gw.load(p.tenant, chat_id)
    if conv is None:
        raise ApiError(404, "chat_not_found", f"no chat {chat_id!r}")
    if p.role in ("admin", "supervisor") and not act:
        return conv
    if p.agent_id is None or p.agent_id != conv.agent_id:
        raise ApiError(403, "forbidden", "agents act only on the chats they hold")
    return conv


def _raise(exc: Any) -> None:
    from gateways.chat.gateway import _STATUS

    raise ApiError(_STATUS.get(exc.error_id, 400), exc.error_id, exc.message) from None


@router.get("/chats")
async def list_chats(p: Caller, server: ServerDep) -> dict[str, Any]:
    """Open conversations: the agent's own, or all of the tenant for supervisors."""
    gw = _gateway(server)
    agent = None if p.role in ("admin", "supervisor") else (p.agent_id or "-")
    chats = [c.view(with_messages=False) for c in gw.conversations(p.tenant, agent)]
    return {"chats": chats, "canned": list(gw.settings.canned.get(p.tenant, []))}


@router.get("/chats/canned")
async def canned(p: Caller, server: ServerDep) -> dict[str, Any]:
    return {"canned": list(_gateway(server).settings.canned.get(p.tenant, []))}


@router.get("/chats/{chat_id}")
async def get_chat(chat_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    conv = await _conv(server, p, chat_id)
    return conv.view()  # type: ignore[no-any-return]


@router.post("/chats/{chat_id}/messages", status_code=201)
async def send_message(chat_id: str, body: MessageIn, p: Caller, server: ServerDep,
                       response: Response) -> dict[str, Any]:
    from gateways.chat import ChatError
    from gateways.chat.limits import check_text

    gw = _gateway(server)
    conv = await _conv(server, p, chat_id, act=True)
    try:
        text = check_text(body.text, gw.settings.max_message_chars)
        m, new = await gw.post(conv, "agent", text, client_id=body.client_id,
                               agent_id=p.agent_id)
    except ChatError as exc:
        _raise(exc)
    if not new:
        response.status_code = 200
    return m.view()  # type: ignore[no-any-return]


@router.post("/chats/{chat_id}/typing", status_code=204)
async def typing(chat_id: str, body: TypingIn, p: Caller, server: ServerDep) -> Response:
    conv = await _conv(server, p, chat_id, act=True)
    _gateway(server).typing(conv, body.on)
    return Response(status_code=204)


@router.post("/chats/{chat_id}/read", status_code=204)
async def read(chat_id: str, body: ReadIn, p: Caller, server: ServerDep) -> Response:
    conv = await _conv(server, p, chat_id, act=True)
    _gateway(server).read(conv, body.seq)
    return Response(status_code=204)


@router.post("/chats/{chat_id}/end")
async def end(chat_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """Close the conversation; the agent's contact goes to wrap-up."""
    conv = await _conv(server, p, chat_id, act=True)
    await _gateway(server).end(conv, by="agent")
    return conv.view(with_messages=False)  # type: ignore[no-any-return]


@router.post("/chats/{chat_id}/transcript")
async def transcript(chat_id: str, p: Caller, server: ServerDep,
                     body: TranscriptIn | None = None) -> dict[str, Any]:
    """E-mail the transcript to the visitor (or the given address) through the relay."""
    from gateways.chat import ChatError

    conv = await _conv(server, p, chat_id)
    address = (body.email if body else None) or conv.visitor.get("email") or ""
    try:
        await _gateway(server).email_transcript(conv, address)
    except ChatError as exc:
        _raise(exc)
    return {"sent_to": address}


@router.get("/chats/{chat_id}/attachments/{message_id}")
async def attachment(chat_id: str, message_id: str, p: Caller,
                     server: ServerDep) -> Response:
    """The file as a download (never rendered inline: it came from a visitor)."""
    conv = await _conv(server, p, chat_id)
    msg = next((m for m in conv.messages if m.id == message_id and m.attachment), None)
    row = await _gateway(server).store.attachment(message_id) if msg else None
    if msg is None or row is None or row["conversation"] != conv.id:
        raise ApiError(404, "attachment_not_found", f"no attachment {message_id!r}")
    name = "".join(c for c in msg.attachment.name if c.isalnum() or c in "._- ") or "file"
    return Response(content=row["data"], media_type=msg.attachment.mime, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'"})


def install(app: FastAPI) -> None:
    """Mount the router and tell the chat gateway which pages belong to which agent."""
    app.include_router(router, prefix="/api/v1")
    server = app.state.server
    for g in getattr(server, "gateways", []):
        if getattr(g, "name", None) == "chat":
            g.hub = app.state.ui_hub
