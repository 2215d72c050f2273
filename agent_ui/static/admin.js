// Administration: agents, queues, skills, not-ready and disposition codes, tenants,
// and the IVR tree diagrams. Every change goes through the REST API; its validation
// errors are shown as they come.

import { api, boot, clear, el, errorText, fmt, option, t, toast } from "./common.js";

const $ = (sel) => document.querySelector(sel);
const state = { tenant: null, agents: [], queues: [], skills: [] };

// ------------------------------------------------------------------ helpers

/** "sales:7, support:3" -> {sales: 7, support: 3}; throws on a malformed entry. */
export function parseLevels(text) {
  const out = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)\s*:\s*(\d+)$/.exec(part);
    if (!m) throw new Error(t("Write skills as skill:level, e.g. sales:7"));
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function levelsText(obj) {
  return Object.entries(obj || {}).map(([k, v]) => `${k}:${v}`).join(", ");
}

/** "600:callback, 300:queue:support" -> [{after_s, action, target}] */
export function parseOverflows(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((part) => {
    const [after, action, target] = part.split(":").map((x) => x.trim());
    if (!after || !action || Number.isNaN(Number(after))) throw new Error(t("Write overflow as after_s:action[:target]"));
    const o = { after_s: Number(after), action };
    if (target) o.target = target;
    return o;
  });
}

function overflowText(list) {
  return (list || []).map((o) => [o.after_s, o.action, o.target].filter((x) => x !== null && x !== undefined && x !== "").join(":")).join(", ");
}

function say(text, kind = "info") {
  const n = $("#admin-msg");
  n.hidden = false;
  n.className = "notice " + kind;
  n.textContent = text;
  toast(text, kind);
}

function fail(e) {
  let text = e.errorId ? errorText(e) : String(e.message || e);
  const problems = e.details && e.details.errors;
  if (problems && problems.length) text += " — " + problems.map((p) => `${p.where}: ${p.problem}`).join("; ");
  say(text, "error");
}

function numOrNull(v) {
  return v === "" || v === null || v === undefined ? null : Number(v);
}

function delButton(label, fn) {
  return el("button", { class: "danger small", onclick: fn }, label);
}

// ------------------------------------------------------------------ tabs

for (const b of document.querySelectorAll("[data-tab]")) {
  b.addEventListener("click", () => showTab(b.dataset.tab));
}
function showTab(name) {
  for (const b of document.querySelectorAll("[data-tab]")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== "tab-" + name;
  if (name === "ivr") loadIvr();
  history.replaceState(null, "", "#" + name);
}

// ------------------------------------------------------------------ load

async function load() {
  try {
    const [b, agents, queues, skills] = await Promise.all([
      api("GET", "/ui/bootstrap"), api("GET", "/agents"), api("GET", "/queues"), api("GET", "/skills"),
    ]);
    state.tenant = b.tenant;
    state.agents = agents.agents;
    state.queues = queues.queues;
    state.skills = skills.skills;
  } catch (e) {
    fail(e);
    return;
  }
  renderAgents();
  renderQueues();
  renderSkills();
  renderCodes();
  loadTenants();
}

// ------------------------------------------------------------------ agents

function renderAgents() {
  const tb = clear($("#agents-table tbody"));
  for (const a of state.agents) {
    const cap = a.capacity || {};
    tb.append(el("tr", { dataset: { id: a.id } },
      el("td", {}, a.id), el("td", {}, a.name || ""), el("td", {}, a.site || ""),
      el("td", {}, levelsText(a.skills)),
      el("td", { class: "small" }, Object.entries(cap).map(([m, n]) => `${t("media." + m)} ${fmt.int(n)}`).join(" · ")),
      el("td", { class: "row nowrap" },
        el("button", { class: "small", onclick: () => editAgent(a) }, t("Edit")),
        delButton(t("Delete"), () => deleteThing("agents", a.id)))));
  }
  const site = $("#agent-form [name=site]");
  clear(site).append(option("", t("(none)")));
  for (const s of state.tenant.sites) site.append(option(s, s));
}

function editAgent(a) {
  const f = $("#agent-form");
  f.id.value = a.id;
  f.id.readOnly = true;
  f.name.value = a.name || "";
  f.site.value = a.site || "";
  f.password.value = "";
  f.skills.value = levelsText(a.skills);
  for (const m of ["voice", "chat", "email", "sms"]) f["cap_" + m].value = (a.capacity || {})[m] ?? "";
  f.scrollIntoView({ behavior: "smooth" });
}

$("#agent-form").addEventListener("reset", (ev) => {
  ev.target.id.readOnly = false;
});

$("#agent-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const existing = state.agents.find((a) => a.id === f.id.value.trim());
  let body;
  try {
    body = Object.assign({}, existing || {}, {
      id: f.id.value.trim(), name: f.name.value.trim(), site: f.site.value || null, skills: parseLevels(f.skills.value),
    });
  } catch (e) {
    return say(e.message, "error");
  }
  const cap = Object.assign({}, (existing && existing.capacity) || {});
  for (const m of ["voice", "chat", "email", "sms"]) if (f["cap_" + m].value !== "") cap[m] = Number(f["cap_" + m].value);
  if (Object.keys(cap).length) body.capacity = cap;
  if (f.password.value) body.password = f.password.value;
  try {
    if (existing) await api("PUT", `/agents/${encodeURIComponent(body.id)}`, body);
    else await api("POST", "/agents", body);
    say(t("Saved {id}.", { id: body.id }), "ok");
    f.reset();
    await load();
  } catch (e) {
    fail(e);
  }
});

async function deleteThing(kind, id) {
  if (!confirm(t("Delete {id}?", { id }))) return;
  try {
    await api("DELETE", `/${kind}/${encodeURIComponent(id)}`);
    say(t("Deleted {id}.", { id }), "ok");
    await load();
  } catch (e) {
    fail(e);
  }
}

// ------------------------------------------------------------------ queues

function renderQueues() {
  const tb = clear($("#queues-table tbody"));
  for (const q of state.queues) {
    tb.append(el("tr", { dataset: { id: q.id } },
      el("td", {}, q.id), el("td", {}, q.name || ""), el("td", {}, t("strategy." + q.strategy)),
      el("td", {}, levelsText(q.skills)),
      el("td", {}, t("{pct} in {secs}", { pct: fmt.pct(q.sl_target_pct), secs: fmt.secs(q.sl_threshold_s) })),
      el("td", { class: "small" }, overflowText(q.overflows)),
      el("td", { class: "small" }, (q.dispositions || []).join(", ")),
      el("td", { class: "row nowrap" },
        el("button", { class: "small", onclick: () => editQueue(q) }, t("Edit")),
        delButton(t("Delete"), () => deleteThing("queues", q.id)))));
  }
}

function editQueue(q) {
  const f = $("#queue-form");
  f.id.value = q.id;
  f.id.readOnly = true;
  f.name.value = q.name || "";
  f.strategy.value = q.strategy;
  f.skills.value = levelsText(q.skills);
  f.sl_target_pct.value = q.sl_target_pct;
  f.sl_threshold_s.value = q.sl_threshold_s;
  f.ring_timeout_s.value = q.ring_timeout_s;
  f.max_wait_s.value = q.max_wait_s ?? "";
  f.overflows.value = overflowText(q.overflows);
  f.dispositions.value = (q.dispositions || []).join(", ");
  showTab("queues");
  f.scrollIntoView({ behavior: "smooth" });
}

$("#queue-form").addEventListener("reset", (ev) => {
  ev.target.id.readOnly = false;
});

$("#queue-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const existing = state.queues.find((q) => q.id === f.id.value.trim());
  let body;
  try {
    body = Object.assign({}, existing || {}, {
      id: f.id.value.trim(), name: f.name.value.trim(), strategy: f.strategy.value, skills: parseLevels(f.skills.value),
      overflows: parseOverflows(f.overflows.value),
      dispositions: f.dispositions.value.split(",").map((s) => s.trim()).filter(Boolean),
      max_wait_s: numOrNull(f.max_wait_s.value),
    });
  } catch (e) {
    return say(e.message, "error");
  }
  for (const k of ["sl_target_pct", "sl_threshold_s", "ring_timeout_s"]) if (f[k].value !== "") body[k] = Number(f[k].value);
  try {
    if (existing) await api("PUT", `/queues/${encodeURIComponent(body.id)}`, body);
    else await api("POST", "/queues", body);
    say(t("Saved {id}.", { id: body.id }), "ok");
    f.reset();
    await load();
  } catch (e) {
    fail(e);
  }
});

// ------------------------------------------------------------------ skills

function renderSkills() {
  const tb = clear($("#skills-table tbody"));
  for (const s of state.skills) {
    tb.append(el("tr", {}, el("td", {}, s.id), el("td", {}, s.name || ""),
      el("td", {}, delButton(t("Delete"), () => deleteThing("skills", s.id)))));
  }
}

$("#skill-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api("POST", "/skills", { id: f.id.value.trim(), name: f.name.value.trim() });
    say(t("Saved {id}.", { id: f.id.value.trim() }), "ok");
    f.reset();
    await load();
  } catch (e) {
    fail(e);
  }
});

// ------------------------------------------------------------------ codes

function renderCodes() {
  $("#reasons-form [name=reasons]").value = state.tenant.not_ready_reasons.join("\n");
  const tb = clear($("#dispositions-table tbody"));
  for (const q of state.queues) {
    tb.append(el("tr", {}, el("td", {}, q.name || q.id), el("td", {}, (q.dispositions || []).join(", ") || "—")));
  }
}

$("#reasons-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const reasons = ev.target.reasons.value.split("\n").map((s) => s.trim()).filter(Boolean);
  try {
    await api("PUT", `/tenants/${encodeURIComponent(state.tenant.id)}`, { not_ready_reasons: reasons });
    say(t("Not-ready reasons saved."), "ok");
    await load();
  } catch (e) {
    fail(e);
  }
});

// ------------------------------------------------------------------ tenants

async function loadTenants() {
  let list;
  try {
    list = (await api("GET", "/tenants")).tenants;
  } catch (e) {
    return fail(e);
  }
  const tb = clear($("#tenants-table tbody"));
  for (const tn of list) {
    tb.append(el("tr", {}, el("td", {}, tn.id), el("td", {}, tn.name), el("td", {}, tn.language),
      el("td", {}, (tn.sites || []).join(", ")), el("td", { class: "small" }, Object.keys(tn.dnis || {}).join(", "))));
  }
}

$("#tenant-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await api("POST", "/tenants", {
      id: f.id.value.trim(), name: f.name.value.trim(), language: f.language.value,
      sites: f.sites.value.split(",").map((s) => s.trim()).filter(Boolean),
    });
    say(t("Saved {id}.", { id: f.id.value.trim() }), "ok");
    f.reset();
    loadTenants();
  } catch (e) {
    fail(e);
  }
});

// ------------------------------------------------------------------ IVR

let ivrLoaded = false;
async function loadIvr() {
  if (ivrLoaded) return;
  ivrLoaded = true;
  const box = clear($("#ivr-list"));
  let trees;
  try {
    trees = (await api("GET", "/ui/ivr")).trees;
  } catch (e) {
    ivrLoaded = false;
    return fail(e);
  }
  if (!trees.length) box.append(el("p", { class: "muted" }, t("This tenant's numbers use no IVR tree.")));
  for (const tr of trees) {
    box.append(el("figure", { class: "ivr" },
      tr.exists ? el("img", { src: `/api/v1/ui/ivr/${encodeURIComponent(tr.name)}.svg`, alt: t("IVR tree {name}", { name: tr.name }) })
        : el("p", { class: "error" }, t("The tree file is missing.")),
      el("figcaption", {}, tr.name)));
  }
}

function tabFromHash() {
  const tab = location.hash.slice(1);
  if (tab && document.getElementById("tab-" + tab)) showTab(tab);
}

if (boot.page === "admin") {
  load().then(tabFromHash);
  window.addEventListener("hashchange", tabFromHash);
}
