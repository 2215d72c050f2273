// The web chat inside a contact pane of the agent desktop: transcript, typing indicator,
// read receipts, canned responses, attachments (as downloads), e-mailed transcript.
// Visitor text is put in the page with textContent only. Each message the agent sends
// carries a client id; a failed POST is retried with the same id, so the visitor sees it
// once. Live updates come as chat.* events on the desktop's WebSocket.

import { api, el, reportError, t, toast } from "./common.js";

const byContact = new Map(); // contact id -> pane
const byConversation = new Map(); // conversation id -> pane
let canned = null;

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

async function loadCanned() {
  if (canned) return canned;
  try {
    canned = (await api("GET", "/chats/canned")).canned || [];
  } catch (e) {
    canned = [];
  }
  return canned;
}

/** Put a chat box into `container` for the chat contact `cid`. */
export async function attachChat(cid, container) {
  if (byContact.has(cid)) return;
  const pane = {
    cid, conv: null, seen: new Set(), lastSeq: 0, readByVisitor: 0, mine: new Map(),
    typingSent: 0, typingTimer: null,
  };
  byContact.set(cid, pane);
  const log = el("ol", { class: "chat-log", "aria-live": "polite", "data-testid": "agent-chat-log" });
  const typing = el("div", { class: "chat-typing muted", hidden: true, text: t("Visitor is typing…") });
  const input = el("textarea", { class: "chat-input grow", rows: 2, maxlength: 4000,
                                 "aria-label": t("Message"), "data-testid": "agent-chat-input" });
  const send = el("button", { class: "primary", type: "button", text: t("Send"),
                              "data-testid": "agent-chat-send" });
  const pick = el("select", { class: "chat-canned", "aria-label": t("Canned responses") },
                  el("option", { value: "", text: t("Canned responses…") }));
  const mail = el("button", { type: "button", text: t("E-mail transcript") });
  pane.node = el("div", { class: "chat-box" }, log, typing,
                 el("div", { class: "row" }, input, send),
                 el("div", { class: "row" }, pick, mail));
  Object.assign(pane, { log, typing, input });
  container.append(pane.node);

  send.addEventListener("click", () => sendText(pane));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendText(pane); }
  });
  input.addEventListener("input", () => sendTyping(pane));
  pick.addEventListener("change", () => {
    if (pick.value) { input.value = pick.value; input.focus(); }
    pick.value = "";
  });
  mail.addEventListener("click", async () => {
    try {
      const r = await api("POST", `/chats/${encodeURIComponent(pane.conv || cid)}/transcript`, {});
      toast(t("Transcript sent to {to}", { to: r.sent_to }));
    } catch (e) { reportError(e); }
  });
  for (const line of await loadCanned()) pick.append(el("option", { value: line, text: line }));
  try {
    const c = await api("GET", `/chats/${encodeURIComponent(cid)}`);
    pane.conv = c.id;
    byConversation.set(c.id, pane);
    pane.readByVisitor = (c.read || {}).visitor || 0;
    for (const m of c.messages) addMessage(pane, m);
  } catch (e) {
    reportError(e);
  }
}

export function detachChat(cid) {
  const pane = byContact.get(cid);
  if (!pane) return;
  byContact.delete(cid);
  if (pane.conv && byConversation.get(pane.conv) === pane) byConversation.delete(pane.conv);
}

function addMessage(pane, m) {
  if (pane.seen.has(m.id)) return;
  pane.seen.add(m.id);
  pane.lastSeq = Math.max(pane.lastSeq, m.seq);
  const li = el("li", { class: `chat-msg ${m.sender}`, dataset: { seq: String(m.seq) } });
  if (m.text) li.append(el("span", { class: "text", text: m.text }));
  if (m.attachment) {
    const href = `/api/v1/chats/${encodeURIComponent(m.conversation)}/attachments/${encodeURIComponent(m.id)}`;
    li.append(el("a", { href, download: m.attachment.name, rel: "noopener",
                        text: `📎 ${m.attachment.name} (${m.attachment.size} B)` }));
  }
  if (m.sender === "agent") {
    const r = el("small", { class: "receipt muted" });
    li.append(r);
    pane.mine.set(m.seq, r);
  }
  const after = [...pane.log.children].find((n) => Number(n.dataset.seq) > m.seq);
  pane.log.insertBefore(li, after || null);
  pane.log.scrollTop = pane.log.scrollHeight;
  showReceipts(pane);
  if (m.sender === "visitor") markRead(pane);
}

function showReceipts(pane) {
  for (const [seq, node] of pane.mine) node.textContent = seq <= pane.readByVisitor ? t("Read") : "";
}

function markRead(pane) {
  if (!pane.conv || document.hidden) return;
  api("POST", `/chats/${encodeURIComponent(pane.conv)}/read`, { seq: pane.lastSeq }).catch(() => {});
}

async function sendText(pane) {
  const text = pane.input.value;
  if (!text.trim() || !pane.conv) return;
  pane.input.value = "";
  const body = { text, client_id: newId() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      addMessage(pane, await api("POST", `/chats/${encodeURIComponent(pane.conv)}/messages`, body));
      return;
    } catch (e) {
      if (e.status && e.status < 500) { reportError(e); pane.input.value = text; return; }
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  toast(t("The message was not sent."), "error");
  pane.input.value = text;
}

function sendTyping(pane) {
  const now = Date.now();
  if (!pane.conv || now - pane.typingSent < 2000) return;
  pane.typingSent = now;
  api("POST", `/chats/${encodeURIComponent(pane.conv)}/typing`, { on: true }).catch(() => {});
}

/** Live chat.* events from the desktop's WebSocket. */
export function onChatEvent(msg) {
  const d = msg.data || {};
  const pane = byConversation.get(d.conversation) || byContact.get(d.contact_id);
  if (!pane) return;
  if (!pane.conv && d.conversation) { pane.conv = d.conversation; byConversation.set(d.conversation, pane); }
  switch (msg.event) {
    case "chat.message":
      addMessage(pane, d);
      pane.typing.hidden = true;
      break;
    case "chat.typing":
      pane.typing.hidden = !d.on;
      clearTimeout(pane.typingTimer);
      pane.typingTimer = setTimeout(() => { pane.typing.hidden = true; }, 6000);
      break;
    case "chat.read":
      pane.readByVisitor = Math.max(pane.readByVisitor, d.seq || 0);
      showReceipts(pane);
      break;
    case "chat.ended":
      pane.log.append(el("li", { class: "chat-msg system", text: t("The visitor left the chat.") }));
      break;
    default:
      break;
  }
}
