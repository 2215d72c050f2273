// Campaign manager: list, create/edit, import a list and read its report, start/pause,
// live progress and results by disposition and survey answer (a hand-drawn SVG chart).
// Every figure comes from /api/v1/campaigns; nothing is decided here.

import { api, ApiError, clear, el, fmt, reportError, t, toast } from "./common.js";

const i18nEl = document.getElementById("campaign-i18n");
const LOCAL = i18nEl ? JSON.parse(i18nEl.textContent) : {};
/** Page strings first (this template's catalogue block), then the shared ones. */
function tc(key, vars) {
  if (!Object.prototype.hasOwnProperty.call(LOCAL, key)) return t(key, vars);
  let s = LOCAL[key];
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const CSRF = csrfMeta ? csrfMeta.content : "";
const NS = "http://www.w3.org/2000/svg";

let current = null;          // the campaign shown
let pollTimer = null;

// ------------------------------------------------------------------ list

async function loadList() {
  const data = await api("GET", "/campaigns");
  const body = document.querySelector("#cmp-table tbody");
  clear(body);
  for (const c of data.campaigns) {
    const tr = el("tr", { class: current && current.id === c.id ? "selected" : "" },
      el("td", {}, c.name),
      el("td", {}, el("span", { class: `badge ${c.state}` }, tc(`state.${c.state}`))),
      el("td", {}, tc(`mode.${c.mode}`)),
      el("td", {}, c.queue),
      el("td", {}, fmt.int(c.priority)),
      el("td", {}, el("button", { class: "small", onclick: () => open(c.id) }, tc("Open"))));
    body.append(tr);
  }
  return data.campaigns;
}

// ------------------------------------------------------------------ detail

async function open(id) {
  current = await api("GET", `/campaigns/${encodeURIComponent(id)}`);
  document.getElementById("cmp-detail").hidden = false;
  document.getElementById("cmp-title").textContent = current.name;
  document.getElementById("cmp-export").href =
    `/api/v1/campaigns/${encodeURIComponent(id)}/export.csv`;
  fillForm(current);
  document.getElementById("cmp-editor").hidden = false;
  showState(current);
  await loadList();
  await refresh();
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = setInterval(() => refresh().catch(() => {}), 2000);
}

function showState(c) {
  const badge = document.getElementById("cmp-state");
  badge.className = `badge ${c.state}`;
  badge.textContent = tc(`state.${c.state}`);
  document.getElementById("cmp-reason").textContent = c.state_reason || "";
  const allowed = { draft: ["start", "stop"], running: ["pause", "stop"],
                    paused: ["resume", "stop"], stopped: [] }[c.state] || [];
  for (const b of document.querySelectorAll("#cmp-actions button")) {
    b.disabled = !allowed.includes(b.dataset.action);
  }
}

async function refresh() {
  if (!current) return;
  const p = await api("GET", `/campaigns/${encodeURIComponent(current.id)}/progress`);
  current.state = p.state;
  current.state_reason = p.state_reason;
  showState(current);
  const live = p.live || {};
  const set = (f, v) => {
    document.querySelector(`#cmp-progress [data-f="${f}"] dd`).textContent = v;
  };
  const ab = live.abandon_pct || {};
  set("dialed", fmt.int(live.dialed || 0));
  set("connected", fmt.int(live.connected || 0));
  set("abandon24", fmt.pct(ab["24h"]));
  set("abandon30", fmt.pct(ab["30d"]));
  const ag = live.agents || { idle: 0, logged_in: 0 };
  set("agents", `${fmt.int(ag.idle)} / ${fmt.int(ag.logged_in)}`);
  set("inflight", fmt.int(live.calls_in_flight || 0));
  set("pending", fmt.int((p.leads || {}).pending || 0));
  set("closed", fmt.int((p.leads || {}).closed || 0));
  set("mode", live.mode ? tc(`mode.${live.mode}`) : "—");
  for (const f of ["abandon24", "abandon30"]) {
    const v = ab[f === "abandon24" ? "24h" : "30d"];
    const box = document.querySelector(`#cmp-progress [data-f="${f}"]`);
    const limit = live.abandon_limit_pct || 3;
    box.className = v === null || v === undefined ? "" : v > limit ? "lvl-bad"
      : v > limit * 2 / 3 ? "lvl-warn" : "lvl-good";
  }
  const voice = document.getElementById("cmp-voice");
  voice.hidden = live.voice !== false;
  voice.textContent = tc("Voice is not available: dials are recorded but not placed.");
  drawResults(document.getElementById("cmp-chart"), p);
}

// ------------------------------------------------------------------ chart

function svg(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** Horizontal bars: one group for dispositions, one per survey question. */
export function drawResults(box, p) {
  clear(box);
  const groups = [[tc("Dispositions"), p.dispositions || {}]];
  for (const q of (current && current.survey) || []) {
    groups.push([q.text, (p.answers || {})[q.id] || {}]);
  }
  const total = groups.reduce((n, [, m]) => n + Object.values(m).reduce((a, b) => a + b, 0), 0);
  if (!total) {
    box.append(el("p", { class: "muted" }, tc("No results yet.")));
    return;
  }
  const rowH = 22, W = 720, L = 200, R = 60;
  const rows = groups.reduce((n, [, m]) => n + 1 + Math.max(1, Object.keys(m).length), 0);
  const H = rows * rowH + 10;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "result-svg", role: "img" });
  let y = 4;
  for (const [title, counts] of groups) {
    root.append(svg("text", { x: 0, y: y + 15, class: "title" }, title));
    y += rowH;
    const max = Math.max(1, ...Object.values(counts));
    for (const [label, n] of Object.entries(counts)) {
      const w = ((W - L - R) * n) / max;
      root.append(svg("text", { x: L - 8, y: y + 15, class: "label", "text-anchor": "end" }, label));
      const bar = svg("rect", { x: L, y: y + 3, width: Math.max(1, w), height: rowH - 6, class: "bar" });
      bar.append(svg("title", {}, `${label}: ${fmt.int(n)}`));
      root.append(bar);
      root.append(svg("text", { x: L + w + 6, y: y + 15, class: "value" }, fmt.int(n)));
      y += rowH;
    }
    if (!Object.keys(counts).length) y += rowH;
  }
  box.append(root);
}

// ------------------------------------------------------------------ editor

function fillForm(c) {
  const f = document.getElementById("cmp-form");
  f.elements.id.value = c.id || "";
  f.elements.id.disabled = Boolean(c.id);
  for (const k of ["name", "queue", "mode", "caller_id", "company", "callback_number",
                   "default_region", "default_tz", "max_attempts", "abandon_limit_pct",
                   "priority"]) {
    if (c[k] !== undefined && c[k] !== null) f.elements[k].value = c[k];
  }
  f.elements.skills.value = (c.skills || []).join(", ");
  const w = (c.windows || [])[0] || { start: "08:00", end: "21:00", weekdays: [0, 1, 2, 3, 4, 5, 6] };
  f.elements.win_start.value = w.start;
  f.elements.win_end.value = w.end;
  f.elements.weekdays.value = w.weekdays.join(",");
  f.elements.retry.value = Object.entries(c.retry_delays_s || {}).map(([k, v]) => `${k}:${v}`).join(", ");
  f.elements.dispositions.value = (c.dispositions || []).join(",");
  f.elements.script.value = JSON.stringify(c.script || [], null, 1);
  f.elements.survey.value = JSON.stringify(c.survey || [], null, 1);
}

function readForm() {
  const f = document.getElementById("cmp-form");
  const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
  let script, survey;
  try {
    script = JSON.parse(f.elements.script.value || "[]");
    survey = JSON.parse(f.elements.survey.value || "[]");
  } catch (e) {
    script = null;
  }
  if (!Array.isArray(script) || !Array.isArray(survey)) {
    throw new Error(tc("Script and survey must be JSON lists."));
  }
  const retry = {};
  for (const part of list(f.elements.retry.value)) {
    const [k, v] = part.split(":");
    retry[k.trim()] = Number(v);
  }
  return {
    name: f.elements.name.value, queue: f.elements.queue.value, skills: list(f.elements.skills.value),
    mode: f.elements.mode.value, caller_id: f.elements.caller_id.value, company: f.elements.company.value,
    callback_number: f.elements.callback_number.value, default_region: f.elements.default_region.value,
    default_tz: f.elements.default_tz.value,
    windows: [{ start: f.elements.win_start.value, end: f.elements.win_end.value,
                weekdays: list(f.elements.weekdays.value).map(Number) }],
    max_attempts: Number(f.elements.max_attempts.value), retry_delays_s: retry,
    abandon_limit_pct: Number(f.elements.abandon_limit_pct.value), priority: Number(f.elements.priority.value),
    dispositions: list(f.elements.dispositions.value), script, survey,
  };
}

async function save(ev) {
  ev.preventDefault();
  try {
    const body = readForm();
    const f = document.getElementById("cmp-form");
    let c;
    if (current && current.id) {
      c = await api("PUT", `/campaigns/${encodeURIComponent(current.id)}`, body);
    } else {
      if (f.elements.id.value) body.id = f.elements.id.value;
      c = await api("POST", "/campaigns", body);
    }
    toast(tc("Saved."), "ok");
    await open(c.id);
  } catch (err) {
    reportError(err);
  }
}

// ------------------------------------------------------------------ import

async function importList(ev) {
  ev.preventDefault();
  if (!current) return toast(tc("Choose a campaign."), "error");
  const f = ev.target;
  const file = f.elements.file.files[0];
  if (!file) return toast(tc("Choose a file first."), "error");
  const mapping = {};
  for (const k of ["phone", "tz", "region", "segment", "priority", "first_name", "last_name"]) {
    if (f.elements[k].value.trim()) mapping[k] = f.elements[k].value.trim();
  }
  const qs = new URLSearchParams({ mapping: JSON.stringify(mapping), filename: file.name,
                                   on_error: f.elements.on_error.value,
                                   priority: f.elements.list_priority.value || "0" });
  const res = await fetch(`/api/v1/campaigns/${encodeURIComponent(current.id)}/imports?${qs}`, {
    method: "POST", credentials: "same-origin", body: file,
    headers: { "X-CSRF-Token": CSRF, "Content-Type": file.type || "application/octet-stream",
               Accept: "application/json" },
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    reportError(new ApiError(res.status, data.error_id || "http_error", data.message || "", data.details));
    return;
  }
  showReport(data);
  await refresh();
}

function showReport(r) {
  const summary = document.getElementById("import-summary");
  summary.hidden = false;
  summary.className = r.rejected ? "notice error" : "notice ok";
  summary.textContent = r.rejected
    ? tc("Import refused: fix the rows below, or choose to skip bad rows.")
    : tc("{n} leads imported ({created} new, {updated} updated).",
         { n: fmt.int(r.accepted), created: fmt.int(r.created), updated: fmt.int(r.updated) });
  const table = document.getElementById("import-report");
  const body = table.querySelector("tbody");
  clear(body);
  const rows = [
    ...r.errors.map((e) => [e.line, e.reason, e.value]),
    ...r.dnc.map((d) => [d.line, tc("On the do-not-call list"), d.phone]),
    ...r.duplicates.map((d) => [d.line, tc("Duplicate of line {line}", { line: d.merged_into }), d.phone]),
    ...r.warnings.map((w) => [w.line, w.warning, ""]),
  ].sort((a, b) => a[0] - b[0]);
  for (const [line, problem, value] of rows) {
    body.append(el("tr", {}, el("td", {}, fmt.int(line)), el("td", {}, problem), el("td", {}, value)));
  }
  table.hidden = rows.length === 0;
}

// ------------------------------------------------------------------ wiring

async function act(action) {
  try {
    current = { ...current, ...(await api("POST", `/campaigns/${encodeURIComponent(current.id)}/${action}`)) };
    showState(current);
    await loadList();
    await refresh();
  } catch (err) {
    reportError(err);
  }
}

function init() {
  document.getElementById("cmp-form").addEventListener("submit", save);
  document.getElementById("import-form").addEventListener("submit", (e) => importList(e).catch(reportError));
  document.getElementById("cmp-new").addEventListener("click", () => {
    current = null;
    document.getElementById("cmp-detail").hidden = true;
    document.getElementById("cmp-form").reset();
    document.getElementById("cmp-form").elements.id.disabled = false;
    document.getElementById("cmp-editor").hidden = false;
    if (pollTimer) clearInterval(pollTimer);
  });
  document.getElementById("cmp-cancel").addEventListener("click", () => {
    document.getElementById("cmp-editor").hidden = !current;
  });
  for (const b of document.querySelectorAll("#cmp-actions button")) {
    b.addEventListener("click", () => act(b.dataset.action));
  }
  loadList().catch(reportError);
}

init();
