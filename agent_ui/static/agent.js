// The agent desktop: shift start (free seating), presence, offers with screen pop,
// one pane per contact, wrap-up, consult and transfer, softphone, shortcuts.

import {
  api, boot, channelLabel, reasonLabel, clear, el, errorText, fmt, fromTemplate, Live, option,
  reportError, serverNow, shortcuts, stateLabel, syncClock, t, toast, VOICE_CHANNELS,
} from "./common.js";
import { Softphone } from "./softphone.js";
import { attachChat, detachChat, onChatEvent } from "./chatpane.js";

const $ = (sel) => document.querySelector(sel);
const me = boot.me;
const AGENT = me.agent_id;

const state = {
  tenant: null,
  queues: new Map(), // id -> {name, dispositions}
  agent: null, // agent view (presence, reason, since, device, site, seat, capacity...)
  statusWord: null,
  statusSince: 0,
  offers: new Map(), // contact id -> {node, deadline, total, data}
  contacts: new Map(), // contact id -> {node, channel, queue, state, answeredAt, wrapUntil, saved}
  focused: null,
  colleagues: [],
};

const softphone = new Softphone($("#softphone"));

// ------------------------------------------------------------------ start

async function start() {
  let b;
  try {
    b = await api("GET", "/ui/bootstrap");
  } catch (e) {
    reportError(e);
    return;
  }
  syncClock(b.now);
  state.tenant = b.tenant;
  for (const q of b.queues) state.queues.set(q.id, q);
  fillShiftForm(b.tenant);
  fillReasons(b.tenant.not_ready_reasons);
  setAgent(b.agent);
  for (const c of b.contacts || []) {
    if (c.state === "offered") continue; // the offer event brings the countdown
    upsertContact(c.id, c);
  }
  new Live(onLive);
  softphone.probe();
  loadColleagues();
  setInterval(tick, 500);
}

function fillShiftForm(tenant) {
  const site = $("#shift-site");
  clear(site);
  const saved = JSON.parse(localStorage.getItem("ipcc.shift") || "{}");
  if (!tenant.sites.length) site.append(option("", t("(no locations)")));
  for (const s of tenant.sites) site.append(option(s, s, s === saved.site));
  if (saved.seat) $("#shift-seat").value = saved.seat;
  if (saved.sip) $("#shift-sip").value = saved.sip;
  if (saved.tel) $("#shift-tel").value = saved.tel;
  if (saved.kind) {
    const r = document.querySelector(`input[name=device][value="${saved.kind}"]`);
    if (r) r.checked = true;
  }
}

function fillReasons(reasons) {
  const sel = $("#nr-reason");
  clear(sel);
  for (const r of reasons) sel.append(option(r, reasonLabel(r)));
}

$("#shift-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const kind = document.querySelector("input[name=device]:checked").value;
  const err = $("#shift-error");
  err.hidden = true;
  let device = "webrtc";
  if (kind === "sip") {
    device = $("#shift-sip").value.trim();
    if (!/^sips?:\S+@?\S*$/.test(device)) return showShiftError(t("Enter a SIP address such as sip:1001@pbx.example.com."));
  } else if (kind === "tel") {
    const n = $("#shift-tel").value.trim().replace(/[\s()-]/g, "");
    if (!/^\+?[0-9]{3,20}$/.test(n)) return showShiftError(t("Enter a phone number such as +886212345678."));
    device = "tel:" + n;
  }
  const site = $("#shift-site").value || null;
  const seat = $("#shift-seat").value.trim() || null;
  localStorage.setItem("ipcc.shift", JSON.stringify({ kind, site, seat, sip: $("#shift-sip").value, tel: $("#shift-tel").value }));
  try {
    const view = await api("POST", `/agents/${AGENT}/login`, { device, site, seat });
    setAgent(view);
    if (device === "webrtc") softphone.openMic();
  } catch (e) {
    showShiftError(errorText(e));
  }
});

function showShiftError(text) {
  const err = $("#shift-error");
  err.hidden = false;
  err.textContent = text;
}

// ------------------------------------------------------------------ presence

function deriveStatus(presence, contacts) {
  const acts = Object.values(contacts || {}).map((c) => c.state);
  if (presence === "logged_out" && !acts.length) return "logged_out";
  if (acts.includes("busy")) return "busy";
  if (acts.includes("wrap_up")) return "wrap_up";
  if (acts.includes("offered")) return "offered";
  return presence === "ready" ? "ready" : "not_ready";
}

function setAgent(view) {
  if (!view) return;
  const prev = state.agent;
  state.agent = Object.assign({}, prev || {}, view);
  const a = state.agent;
  const word = deriveStatus(a.presence, a.contacts);
  if (word !== state.statusWord) {
    // first view: the server's "since"; afterwards: when we saw the change
    state.statusSince = !prev && typeof a.since === "number" ? a.since : serverNow();
    state.statusWord = word;
  }
  const loggedIn = a.presence !== "logged_out";
  $("#shift").hidden = loggedIn;
  $("#desk").hidden = !loggedIn;
  const label = $("#state-label");
  label.textContent = stateLabel(word);
  label.className = "badge st-" + word;
  label.dataset.state = word;
  $("#state-reason").textContent = a.presence === "not_ready" && a.reason ? reasonLabel(a.reason) : "";
  const where = [a.site || a.session_site, a.seat, a.device].filter(Boolean).join(" · ");
  $("#session-info").textContent = where;
  const cap = a.capacity || {};
  const held = a.held || {};
  $("#capacity").textContent = Object.keys(cap)
    .filter((m) => cap[m] > 0)
    .map((m) => `${t("media." + m)} ${fmt.int(held[m] || 0)}/${fmt.int(cap[m])}`)
    .join("  ");
  $("#btn-ready").disabled = a.presence === "ready";
  $("#btn-not-ready").disabled = a.presence === "not_ready" && !!a.reason;
  if (!loggedIn) softphone.stop();
}

async function setPresence(which) {
  try {
    const body = which === "ready" ? { state: "ready" } : { state: "not_ready", reason: $("#nr-reason").value || null };
    setAgent(await api("PUT", `/agents/${AGENT}/state`, body));
  } catch (e) {
    reportError(e);
  }
}

$("#btn-ready").addEventListener("click", () => setPresence("ready"));
$("#btn-not-ready").addEventListener("click", () => setPresence("not_ready"));
$("#btn-end-shift").addEventListener("click", async () => {
  try {
    setAgent(await api("POST", `/agents/${AGENT}/logout`));
  } catch (e) {
    reportError(e);
  }
});
$("#btn-help").addEventListener("click", () => $("#shortcuts-dialog").showModal());

// ------------------------------------------------------------------ live

function onLive(msg) {
  const d = msg.data || {};
  switch (msg.event) {
    case "agent.updated":
      if (msg.id === AGENT) {
        setAgent({ presence: d.presence, reason: d.reason, contacts: d.activity, device: d.device, site: d.site, seat: d.seat });
        refreshAgent();
        reconcile(d.activity || {});
      }
      break;
    case "offer":
      if (d.agent_id === AGENT) addOffer(d, msg.at);
      break;
    case "offer.retracted":
      if (d.agent_id === AGENT) removeOffer(d.contact_id, d.reason);
      break;
    case "contact.updated":
      if (d.agent_id === AGENT || state.contacts.has(msg.id)) onContact(msg.id, d);
      break;
    case "consult.message":
      showConsult(d);
      break;
    case "chat.message":
    case "chat.typing":
    case "chat.read":
    case "chat.ended":
      onChatEvent(msg);
      break;
    default:
      break;
  }
}

let refreshing = null;
function refreshAgent() {
  // capacity and held counts are only in the full view
  if (refreshing) return;
  refreshing = setTimeout(async () => {
    refreshing = null;
    try {
      setAgent(await api("GET", `/agents/${AGENT}/state`));
    } catch (e) {
      /* the live view stays */
    }
  }, 150);
}

function reconcile(activity) {
  for (const [cid, a] of Object.entries(activity)) {
    if (a.state !== "offered" && !state.contacts.has(cid)) {
      api("GET", `/contacts/${encodeURIComponent(cid)}`).then((c) => upsertContact(cid, c)).catch(() => {});
    }
  }
}

// ------------------------------------------------------------------ offers

function addOffer(d, at) {
  const cid = d.contact_id;
  if (state.offers.has(cid)) return;
  const node = fromTemplate("tpl-offer");
  node.dataset.contact = cid;
  node.querySelector(".channel").textContent = channelLabel(d.channel);
  node.querySelector(".customer-name").textContent = (d.customer && d.customer.name) || t("Unknown customer");
  const q = state.queues.get(d.queue);
  node.querySelector(".queue").textContent = q ? q.name : d.queue || "";
  node.querySelector(".accept").addEventListener("click", () => accept(cid));
  node.querySelector(".reject").addEventListener("click", () => reject(cid));
  $("#offers").append(node);
  const total = d.timeout_s || 20;
  state.offers.set(cid, { node, deadline: (at || serverNow()) + total, total, data: d });
  loadPop(cid, node.querySelector(".pop"));
  updateEmpty();
  notify(t("New {channel} contact", { channel: channelLabel(d.channel) }));
}

function removeOffer(cid, reason) {
  const o = state.offers.get(cid);
  if (!o) return;
  o.node.remove();
  state.offers.delete(cid);
  if (reason && reason !== "accepted") {
    const why = { no_answer: t("not answered in time"), abandoned: t("the customer left"), logged_out: t("you logged out"), cancelled: t("cancelled") }[reason] || reason;
    toast(t("Offer withdrawn: {reason}", { reason: why }));
  }
  updateEmpty();
}

async function accept(cid) {
  const o = state.offers.get(cid);
  try {
    const view = await api("POST", `/contacts/${encodeURIComponent(cid)}/accept`, {});
    const data = o ? o.data : {};
    removeOffer(cid);
    upsertContact(cid, Object.assign({ channel: data.channel, queue: data.queue, customer: data.customer }, view));
  } catch (e) {
    reportError(e);
  }
}

async function reject(cid) {
  try {
    await api("POST", `/contacts/${encodeURIComponent(cid)}/reject`, {});
    removeOffer(cid);
  } catch (e) {
    reportError(e);
  }
}

function notify(text) {
  document.title = "● " + text;
  setTimeout(() => (document.title = document.title.replace(/^● .*$/, t("Agent desktop") + " · ipcc")), 5000);
}

// ------------------------------------------------------------------ screen pop

async function loadPop(cid, box) {
  let p;
  try {
    p = await api("GET", `/ui/contacts/${encodeURIComponent(cid)}/screenpop`);
  } catch (e) {
    box.textContent = errorText(e);
    return;
  }
  clear(box);
  const c = p.customer || {};
  const facts = el("dl", { class: "facts" });
  const add = (label, value) => {
    if (value === null || value === undefined || value === "") return;
    facts.append(el("div", {}, el("dt", {}, label), el("dd", {}, String(value))));
  };
  add(t("Customer"), c.name || t("Unknown customer"));
  add(t("Customer ID"), c.id);
  add(t("Phone"), c.phone);
  add(t("E-mail"), c.email);
  add(t("Segment"), p.segment);
  add(t("Value tier"), p.value_tier);
  add(t("Waiting since"), fmt.time(p.contact.arrival));
  box.append(facts);
  if (p.transfer) {
    const tr = p.transfer;
    box.append(el("div", { class: "transfer-note" },
      el("strong", {}, t("Transferred by {agent}", { agent: tr.from_agent || "?" })),
      tr.notes ? el("p", { class: "note-text" }, tr.notes) : null));
  }
  const ivrKeys = Object.keys(p.ivr || {});
  if (ivrKeys.length) {
    const ivr = el("dl", { class: "facts ivr" });
    for (const k of ivrKeys) {
      const v = p.ivr[k];
      ivr.append(el("div", {}, el("dt", {}, k), el("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))));
    }
    box.append(el("h4", {}, t("Collected by the IVR")), ivr);
  }
  box.append(el("h4", {}, t("Recent contacts")));
  if (!p.history.length) {
    box.append(el("p", { class: "muted small" }, t("No earlier contacts.")));
  } else {
    const table = el("table", { class: "grid small history" },
      el("thead", {}, el("tr", {}, el("th", {}, t("When")), el("th", {}, t("Channel")), el("th", {}, t("Queue")), el("th", {}, t("Outcome")), el("th", {}, t("Disposition")), el("th", {}, t("Notes")))));
    const tb = el("tbody");
    for (const h of p.history) {
      tb.append(el("tr", {},
        el("td", {}, fmt.datetime(h.arrival)), el("td", {}, channelLabel(h.channel)),
        el("td", {}, h.queue), el("td", {}, h.outcome ? t("outcome." + h.outcome) : stateLabel(h.state)),
        el("td", {}, h.disposition || ""), el("td", {}, h.notes || "")));
    }
    table.append(tb);
    box.append(table);
  }
}

// ------------------------------------------------------------------ contact panes

function upsertContact(cid, c) {
  let rec = state.contacts.get(cid);
  if (!rec) {
    const node = fromTemplate("tpl-pane");
    node.dataset.contact = cid;
    node.addEventListener("focusin", () => focusPane(cid));
    node.addEventListener("click", () => focusPane(cid));
    rec = { node, channel: c.channel, queue: c.queue, state: c.state, answeredAt: c.answered_at || serverNow(), wrapUntil: null, saved: false };
    state.contacts.set(cid, rec);
    node.querySelector(".channel").textContent = channelLabel(c.channel);
    node.querySelector(".customer-name").textContent = (c.customer && c.customer.name) || t("Unknown customer");
    const q = state.queues.get(c.queue);
    node.querySelector(".queue").textContent = q ? q.name : c.queue || "";
    const isVoice = VOICE_CHANNELS.has(c.channel);
    node.querySelector(".call-controls").hidden = !isVoice;
    node.querySelector(".transfer").hidden = isVoice;
    wirePane(cid, rec);
    $("#panes").append(node);
    loadPop(cid, node.querySelector(".pop"));
    if (c.channel === "chat") {
      const box = document.createElement("div");
      node.insertBefore(box, node.querySelector(".digital-controls"));
      attachChat(cid, box);
    }
    if (!state.focused) focusPane(cid);
  }
  setContactState(cid, c.state || rec.state, c);
  updateEmpty();
}

function wirePane(cid, rec) {
  const n = rec.node;
  n.querySelector(".complete").addEventListener("click", () => complete(cid));
  n.querySelector(".transfer").addEventListener("click", () => openTransfer(cid));
  n.querySelector(".consult-btn").addEventListener("click", () => {
    state.consultContact = cid;
    $("#consult-text").focus();
  });
  n.querySelector(".extend").addEventListener("click", () => extend(cid));
  n.querySelector(".wrapup").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveWrapup(cid);
  });
  const disp = n.querySelector(".disposition");
  disp.append(option("", t("— choose —")));
  const q = state.queues.get(rec.queue);
  for (const code of (q && q.dispositions) || []) disp.append(option(code, code));
  for (const b of n.querySelectorAll("[data-call]")) {
    b.disabled = softphone.voice === false;
    b.addEventListener("click", () => callAction(cid, b.dataset.call));
  }
}

function setContactState(cid, st, c) {
  const rec = state.contacts.get(cid);
  if (!rec) return;
  rec.state = st;
  const n = rec.node;
  const badge = n.querySelector(".pane-state");
  badge.textContent = stateLabel(st);
  badge.className = "pane-state badge st-" + st;
  n.dataset.state = st;
  const inWrap = st === "wrap_up" || (st === "ended" && !rec.saved);
  n.querySelector(".wrapup").hidden = !inWrap;
  n.querySelector(".digital-controls").hidden = st !== "connected";
  n.querySelector(".call-controls").hidden = st !== "connected" || !VOICE_CHANNELS.has(rec.channel);
  if (st === "wrap_up" && !rec.wrapUntil) {
    rec.wrapUntil = serverNow() + wrapupSeconds(rec);
    n.querySelector(".notes").focus();
  }
  if (st === "ended") {
    n.querySelector(".wrapup-over").hidden = rec.saved;
    n.querySelector(".extend").hidden = true;
    if (rec.saved || !rec.wrapUntil) removePane(cid);
  }
}

function wrapupSeconds(rec) {
  const media = VOICE_CHANNELS.has(rec.channel) ? "voice" : ({ chat: "chat", cobrowse: "chat", sms: "sms" }[rec.channel] || "email");
  const q = state.queues.get(rec.queue);
  const own = (state.agent && state.agent.wrapup_s) || {};
  if (q && q.wrapup_s && media in q.wrapup_s) return q.wrapup_s[media];
  return media in own ? own[media] : 30;
}

function onContact(cid, d) {
  if (d.state === "offered") return;
  if (d.state === "queued") {
    // transferred away or requeued: not ours any more
    removeOffer(cid);
    if (state.contacts.has(cid) && state.contacts.get(cid).state === "connected") removePane(cid);
    return;
  }
  if (!state.contacts.has(cid)) {
    if (d.state === "ended") return removeOffer(cid);
    api("GET", `/contacts/${encodeURIComponent(cid)}`).then((c) => upsertContact(cid, c)).catch(() => {});
    return;
  }
  setContactState(cid, d.state, d);
}

function removePane(cid) {
  const rec = state.contacts.get(cid);
  if (!rec) return;
  detachChat(cid);
  rec.node.remove();
  state.contacts.delete(cid);
  if (state.focused === cid) {
    state.focused = null;
    const next = state.contacts.keys().next();
    if (!next.done) focusPane(next.value);
  }
  updateEmpty();
}

function focusPane(cid) {
  state.focused = cid;
  for (const [id, r] of state.contacts) r.node.classList.toggle("focused", id === cid);
  const rec = state.contacts.get(cid);
  softphone.activeCall = rec && VOICE_CHANNELS.has(rec.channel) && rec.state === "connected" ? cid : null;
}

function updateEmpty() {
  $("#no-contacts").hidden = state.contacts.size > 0 || state.offers.size > 0;
}

async function complete(cid) {
  try {
    const v = await api("POST", `/contacts/${encodeURIComponent(cid)}/complete`, {});
    setContactState(cid, v.state, v);
  } catch (e) {
    reportError(e);
  }
}

async function extend(cid) {
  const rec = state.contacts.get(cid);
  try {
    const r = await api("POST", `/ui/contacts/${encodeURIComponent(cid)}/extend-wrapup`, { seconds: 30 });
    rec.wrapUntil = r.wrapup_until;
    toast(t("Wrap-up extended by 30 seconds."));
  } catch (e) {
    reportError(e);
  }
}

async function saveWrapup(cid) {
  const rec = state.contacts.get(cid);
  if (!rec) return;
  const n = rec.node;
  const body = { disposition: n.querySelector(".disposition").value || null, notes: n.querySelector(".notes").value || null };
  try {
    if (rec.state === "wrap_up") {
      try {
        await api("POST", `/contacts/${encodeURIComponent(cid)}/wrapup`, body);
      } catch (e) {
        if (e.status !== 409) throw e;
        await api("POST", `/ui/contacts/${encodeURIComponent(cid)}/disposition`, body);
      }
    } else {
      await api("POST", `/ui/contacts/${encodeURIComponent(cid)}/disposition`, body);
    }
    rec.saved = true;
    toast(t("Wrap-up saved."));
    removePane(cid);
  } catch (e) {
    reportError(e);
  }
}

async function callAction(cid, action) {
  const rec = state.contacts.get(cid);
  if (!rec) return;
  const n = rec.node;
  const target = n.querySelector(".call-target").value.trim();
  const to = n.querySelector(".call-target-kind").value;
  const map = {
    hangup: ["hangup"], hold: ["hold"], resume: ["resume"], mute: ["mute"], unmute: ["unmute"],
    blind: ["transfer", { to, target }], consult: ["consult", { to, target }],
    "consult-complete": ["consult/complete"], "consult-cancel": ["consult/cancel"], conference: ["conference"],
  };
  const [path, body] = map[action];
  if ((action === "blind" || action === "consult") && !target) {
    toast(t("Enter a number or colleague to transfer to."), "error");
    return;
  }
  if (action === "consult" && to === "queue") {
    toast(t("A consultation goes to a colleague or a number."), "error");
    return;
  }
  const r = await softphone.call(cid, path, body);
  if (r === null) return;
  const toggle = { hold: "resume", resume: "hold", mute: "unmute", unmute: "mute" }[action];
  if (toggle) {
    n.querySelector(`[data-call="${action}"]`).hidden = true;
    n.querySelector(`[data-call="${toggle}"]`).hidden = false;
  }
  if (action === "consult") n.querySelector(".consult-step").hidden = false;
  if (action === "consult-complete" || action === "consult-cancel") n.querySelector(".consult-step").hidden = true;
}

// ------------------------------------------------------------------ transfer

let transferFor = null;
function openTransfer(cid) {
  transferFor = cid;
  const rec = state.contacts.get(cid);
  const qs = $("#transfer-queue");
  clear(qs);
  for (const [id, q] of state.queues) qs.append(option(id, q.name, id === rec.queue));
  const ag = $("#transfer-agent");
  clear(ag);
  ag.append(option("", t("anyone in the queue")));
  for (const c of state.colleagues) if (c.id !== AGENT) ag.append(option(c.id, `${c.name} (${stateLabel(c.status)})`));
  $("#transfer-notes").value = "";
  $("#transfer-dialog").showModal();
}
$("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());
$("#transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const cid = transferFor;
  try {
    await api("POST", `/ui/contacts/${encodeURIComponent(cid)}/transfer`, {
      to_queue: $("#transfer-queue").value, to_agent: $("#transfer-agent").value || null, notes: $("#transfer-notes").value || null,
    });
    $("#transfer-dialog").close();
    toast(t("Transferred."));
    setContactState(cid, "wrap_up", {});
  } catch (e) {
    reportError(e);
  }
});

// ------------------------------------------------------------------ consult

async function loadColleagues() {
  try {
    const rank = { ready: 0, busy: 1, offered: 1, wrap_up: 1, not_ready: 2, logged_out: 3 };
    state.colleagues = (await api("GET", "/ui/colleagues")).agents.sort((a, b) =>
      (rank[a.status] ?? 4) - (rank[b.status] ?? 4) || String(a.name).localeCompare(String(b.name), undefined, { numeric: true }));
  } catch (e) {
    return;
  }
  const sel = $("#consult-to");
  const keep = sel.value;
  clear(sel);
  for (const c of state.colleagues) if (c.id !== AGENT) sel.append(option(c.id, `${c.name} · ${stateLabel(c.status)}`, c.id === keep));
}
setInterval(loadColleagues, 30000);

$("#consult-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("#consult-text").value.trim();
  const to = $("#consult-to").value;
  if (!text || !to) return;
  try {
    const r = await api("POST", "/ui/consult", { to_agent: to, text, contact_id: state.consultContact || null });
    appendChat(t("You → {name}", { name: to }), text, "out");
    if (!r.delivered) toast(t("{name} has no desktop open; the message was not delivered.", { name: to }), "error");
    $("#consult-text").value = "";
  } catch (e) {
    reportError(e);
  }
});

function showConsult(d) {
  appendChat(d.from, d.text, "in");
  const sel = $("#consult-to");
  if ([...sel.options].some((o) => o.value === d.from)) sel.value = d.from;
  toast(t("Message from {name}", { name: d.from }));
}

function appendChat(who, text, dir) {
  const log = $("#consult-log");
  log.append(el("div", { class: "msg " + dir }, el("span", { class: "who" }, who), el("span", { class: "text" }, text)));
  log.scrollTop = log.scrollHeight;
}

// ------------------------------------------------------------------ timers

function tick() {
  const now = serverNow();
  $("#state-time").textContent = fmt.dur(now - state.statusSince);
  for (const [cid, o] of state.offers) {
    const left = Math.max(0, o.deadline - now);
    o.node.querySelector(".countdown").textContent = fmt.dur(left);
    o.node.querySelector(".ring").value = (100 * left) / o.total;
  }
  for (const [, r] of state.contacts) {
    r.node.querySelector(".talk-timer").textContent = fmt.dur(now - r.answeredAt);
    if (r.state === "wrap_up" && r.wrapUntil) {
      r.node.querySelector(".wrapup-timer").textContent = t("ends in {time}", { time: fmt.dur(r.wrapUntil - now) });
    } else if (r.state === "ended") {
      r.node.querySelector(".wrapup-timer").textContent = "";
    }
  }
}

// ------------------------------------------------------------------ shortcuts

function firstOffer() {
  const it = state.offers.keys().next();
  return it.done ? null : it.value;
}
function focusedRec() {
  return state.focused ? state.contacts.get(state.focused) : null;
}
shortcuts({
  KeyR: () => setPresence("ready"),
  KeyN: () => setPresence("not_ready"),
  KeyA: () => firstOffer() && accept(firstOffer()),
  KeyJ: () => firstOffer() && reject(firstOffer()),
  KeyE: () => focusedRec() && focusedRec().state === "connected" && complete(state.focused),
  KeyS: () => focusedRec() && saveWrapup(state.focused),
  KeyX: () => focusedRec() && focusedRec().state === "wrap_up" && extend(state.focused),
  KeyH: () => {
    const r = focusedRec();
    if (!r) return;
    const holdBtn = r.node.querySelector('[data-call="hold"]');
    callAction(state.focused, holdBtn.hidden ? "resume" : "hold");
  },
  KeyM: () => {
    const r = focusedRec();
    if (!r) return;
    const b = r.node.querySelector('[data-call="mute"]');
    callAction(state.focused, b.hidden ? "unmute" : "mute");
  },
  KeyK: () => $("#shortcuts-dialog").showModal(),
});

start();
