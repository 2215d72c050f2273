// The supervisor console: wallboard per queue (live over the WebSocket), the agent
// grid with force-not-ready and log-out, voice coaching (when voice exists) and today's
// intervals drawn as SVG by hand.

import {
  api, ApiError, clear, el, errorText, fmt, fromTemplate, Live, option, reasonLabel,
  reportError, serverNow, stateLabel, syncClock, t, toast, VOICE_CHANNELS, channelLabel,
} from "./common.js";
import { drawIntervals } from "./charts.js";
import { unavailable } from "./softphone.js";

const $ = (sel) => document.querySelector(sel);
const state = {
  tenant: null,
  queues: new Map(), // id -> {name, card, stats}
  agents: new Map(), // id -> {view, row, statusSince}
  voice: null,
  chat: null,
  updated: 0,
};

// ------------------------------------------------------------------ thresholds

/** Colour of a figure: "good" / "warn" / "bad" (null: no colour). Thresholds: SL against
 * the queue's target (warn within 5 points below), longest wait against the SL threshold
 * (warn above it, bad above twice), abandoned % (warn above 5 %, bad above 10 %). */
export function level(kind, value, s) {
  if (value === null || value === undefined) return null;
  if (kind === "sl") return value >= s.sl_target_pct ? "good" : value >= s.sl_target_pct - 5 ? "warn" : "bad";
  if (kind === "longest") return value > 2 * s.sl_threshold_s ? "bad" : value > s.sl_threshold_s ? "warn" : "good";
  if (kind === "abandoned") return value > 10 ? "bad" : value > 5 ? "warn" : "good";
  if (kind === "waiting") return value > 0 && s.agents && s.agents.ready === 0 ? "warn" : null;
  return null;
}

// ------------------------------------------------------------------ start

async function start() {
  try {
    const b = await api("GET", "/ui/bootstrap");
    syncClock(b.now);
    state.tenant = b.tenant;
    const live = await api("GET", "/ui/queues/live");
    for (const q of live.queues) renderQueue(q.id, q.name, q.stats);
    fillChartQueues(live.queues);
    const ag = await api("GET", "/ui/agents/live");
    syncClock(ag.now);
    ag.agents.sort((x, y) => String(x.name || x.id).localeCompare(String(y.name || y.id), undefined, { numeric: true }));
    for (const a of ag.agents) renderAgent(a, true);
  } catch (e) {
    reportError(e);
    return;
  }
  new Live(onLive);
  probeServices();
  loadChart();
  setInterval(tick, 500);
  setInterval(loadChart, 60000);
}

function onLive(msg) {
  const d = msg.data || {};
  if (msg.event === "queue.stats") {
    const q = state.queues.get(msg.id);
    renderQueue(msg.id, q ? q.name : msg.id, d);
  } else if (msg.event === "agent.updated") {
    refreshAgent(msg.id);
  }
}

// ------------------------------------------------------------------ wallboard

function renderQueue(id, name, s) {
  let q = state.queues.get(id);
  if (!q) {
    const card = fromTemplate("tpl-queue-card");
    card.dataset.queue = id;
    $("#wallboard").append(card);
    q = { name, card };
    state.queues.set(id, q);
  }
  q.stats = s;
  const c = q.card;
  c.querySelector(".qname").textContent = name;
  const set = (f, text, lvl) => {
    const box = c.querySelector(`[data-f="${f}"]`);
    box.querySelector("dd").textContent = text;
    box.className = lvl ? "lvl-" + lvl : "";
  };
  set("waiting", fmt.int(s.waiting), level("waiting", s.waiting, s));
  set("longest", fmt.dur(s.longest_wait_s), level("longest", s.longest_wait_s, s));
  set("sl", s.service_level_pct === null ? "—" : `${fmt.pct(s.service_level_pct)} / ${fmt.pct(s.sl_target_pct)}`, level("sl", s.service_level_pct, s));
  set("asa", s.asa_s === null ? "—" : fmt.dur(s.asa_s));
  set("abandoned", s.abandoned_pct === null ? "—" : `${fmt.pct(s.abandoned_pct)} (${fmt.int(s.abandoned)})`, level("abandoned", s.abandoned_pct, s));
  set("answered", fmt.int(s.answered));
  for (const li of c.querySelectorAll("[data-s]")) {
    li.querySelector("b").textContent = fmt.int((s.agents || {})[li.dataset.s] || 0);
  }
  state.updated = serverNow();
  $("#wb-updated").textContent = t("updated {time}", { time: fmt.time(state.updated) });
}

// ------------------------------------------------------------------ agent grid

function statusOf(v) {
  return v.status || "logged_out";
}

function renderAgent(v, initial) {
  let a = state.agents.get(v.id);
  if (!a) {
    const row = el("tr", { dataset: { agent: v.id } });
    $("#agent-grid tbody").append(row);
    a = { row, view: v, statusSince: v.since || serverNow() };
    state.agents.set(v.id, a);
  } else if (statusOf(a.view) !== statusOf(v)) {
    a.statusSince = serverNow();
  }
  if (initial && v.since) a.statusSince = v.since;
  a.view = v;
  const r = clear(a.row);
  const st = statusOf(v);
  const contacts = Object.entries(v.contacts || {});
  r.append(
    el("td", {}, el("strong", {}, v.name || v.id), el("div", { class: "muted small" }, v.id)),
    el("td", {}, el("span", { class: "badge st-" + st, dataset: { state: st } }, stateLabel(st)),
      v.presence === "not_ready" && v.reason ? el("span", { class: "muted small" }, " " + reasonLabel(v.reason)) : null),
    el("td", { class: "timer", dataset: { since: "1" } }, fmt.dur(serverNow() - a.statusSince)),
    el("td", {}, [v.site || v.session_site, v.seat].filter(Boolean).join(" · ")),
    el("td", { class: "small" }, v.device || ""),
    el("td", {}, contacts.length
      ? contacts.map(([cid, c]) => el("div", { class: "small" }, `${channelLabel(c.channel)} · ${stateLabel(c.state)}`, coachButtons(cid, c)))
      : "—"),
    el("td", {}, actions(v)),
  );
}

function actions(v) {
  if (v.presence === "logged_out") return "";
  const sel = el("select", { "aria-label": t("Not-ready reason") });
  for (const reason of state.tenant.not_ready_reasons) sel.append(option(reason, reasonLabel(reason)));
  return el("div", { class: "row nowrap" }, sel,
    el("button", { class: "warn small force-nr", onclick: () => force(v.id, sel.value) }, t("Force not ready")),
    el("button", { class: "ghost small force-out", onclick: () => logout(v.id) }, t("Log out")));
}

function coachButtons(cid, c) {
  if (VOICE_CHANNELS.has(c.channel)) {
    return el("span", { class: "coach" }, ...["monitor", "whisper", "barge"].map((mode) =>
      el("button", { class: "small", disabled: state.voice === false, "data-voice": "", onclick: () => coach(cid, mode) }, t("coach." + mode))));
  }
  if (c.channel === "chat") {
    return el("button", { class: "small", disabled: state.chat === false, onclick: () => readChat(cid) }, t("Read chat"));
  }
  return null;
}

async function force(agentId, reason) {
  try {
    renderAgent(await api("PUT", `/agents/${encodeURIComponent(agentId)}/state`, { state: "not_ready", reason }));
    toast(t("{agent} is now not ready.", { agent: agentId }));
  } catch (e) {
    reportError(e);
  }
}

async function logout(agentId) {
  try {
    renderAgent(await api("POST", `/agents/${encodeURIComponent(agentId)}/logout`));
  } catch (e) {
    reportError(e);
  }
}

const pending = new Map();
function refreshAgent(id) {
  if (pending.has(id)) return;
  pending.set(id, setTimeout(async () => {
    pending.delete(id);
    try {
      renderAgent(await api("GET", `/agents/${encodeURIComponent(id)}/state`));
    } catch (e) {
      /* deleted agents drop out on reload */
    }
  }, 100));
}

// ------------------------------------------------------------------ coaching

async function probe(path) {
  try {
    await api("GET", path);
    return true;
  } catch (e) {
    if (unavailable(e)) return false;
    return e instanceof ApiError && e.status === 405;
  }
}

async function probeServices() {
  // voice coaching: the voice service runs and has a monitor route (a probe on a call id
  // that cannot exist: "call_not_found" or a validation error means the route is there)
  state.voice = await probe("/calls");
  if (state.voice) {
    try {
      await api("POST", "/calls/-probe-/monitor", { mode: "monitor" });
    } catch (e) {
      state.voice = !(unavailable(e) || e.status === 405);
    }
  }
  state.chat = await probe("/chats");
  const msgs = [];
  if (!state.voice) msgs.push(t("Voice coaching (monitor, whisper, barge) is not available on this server."));
  if (!state.chat) msgs.push(t("Reading live chats needs the chat service, which is not available on this server."));
  const n = $("#coach-status");
  n.hidden = !msgs.length;
  n.textContent = msgs.join(" ");
  for (const a of state.agents.values()) renderAgent(a.view);
}

async function coach(cid, mode) {
  try {
    await api("POST", `/calls/${encodeURIComponent(cid)}/monitor`, { mode });
  } catch (e) {
    if (unavailable(e)) {
      state.voice = false;
      probeServices();
    }
    toast(errorText(e), "error");
  }
}

async function readChat(cid) {
  try {
    await api("GET", `/chats/${encodeURIComponent(cid)}`);
  } catch (e) {
    toast(errorText(e), "error");
  }
}

// ------------------------------------------------------------------ charts

function fillChartQueues(queues) {
  const sel = $("#chart-queue");
  sel.append(option("", t("All queues")));
  for (const q of queues) sel.append(option(q.id, q.name));
  sel.addEventListener("change", loadChart);
  $("#chart-refresh").addEventListener("click", loadChart);
}

async function loadChart() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const since = Math.round((midnight.getTime() / 1000 + (serverNow() - Date.now() / 1000)) / 60) * 60;
  const until = since + 86400;
  let data;
  try {
    data = await api("GET", `/ui/intervals?since=${since}&until=${until}&step_s=1800`);
  } catch (e) {
    reportError(e);
    return;
  }
  const q = $("#chart-queue").value;
  const series = q ? data.queues[q] || data.total.map(() => ({ offered: 0, handled: 0, abandoned: 0, sl_pct: null })) : data.total;
  drawIntervals($("#chart"), data.starts, series, serverNow());
}

// ------------------------------------------------------------------ timers

function tick() {
  const now = serverNow();
  for (const a of state.agents.values()) {
    const cell = a.row.querySelector("[data-since]");
    if (cell) cell.textContent = fmt.dur(now - a.statusSince);
  }
}

start();
