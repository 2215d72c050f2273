// Shared by every page: API calls with the CSRF header, the live WebSocket, translated
// strings, localized formatting, and a DOM helper that only ever sets text.
//
// Safety rule for the whole UI: data from the server (customer names, chat text, notes)
// goes into the page with textContent / text nodes, never innerHTML.

const bootEl = document.getElementById("ipcc-boot");
const i18nEl = document.getElementById("ipcc-i18n");
export const boot = bootEl ? JSON.parse(bootEl.textContent) : {};
const STRINGS = i18nEl ? JSON.parse(i18nEl.textContent) : {};
const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const CSRF = csrfMeta ? csrfMeta.content : "";
export const LANG = boot.lang || "en";

// ------------------------------------------------------------------ strings

/** A translated string by key; {name} placeholders are filled from vars. */
export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  }
  return s;
}

// ------------------------------------------------------------------ clock

// Server time = browser time + offset, so durations match the server's timestamps.
let offset = typeof boot.now === "number" ? boot.now - Date.now() / 1000 : 0;
export function syncClock(serverNow) {
  if (typeof serverNow === "number") offset = serverNow - Date.now() / 1000;
}
export function serverNow() {
  return Date.now() / 1000 + offset;
}

// ------------------------------------------------------------------ formatting

const numFmt = new Intl.NumberFormat(LANG, { maximumFractionDigits: 1 });
const intFmt = new Intl.NumberFormat(LANG, { maximumFractionDigits: 0 });
const timeFmt = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(LANG, { dateStyle: "medium", timeStyle: "short" });

export const fmt = {
  num: (v) => (v === null || v === undefined ? "—" : numFmt.format(v)),
  int: (v) => (v === null || v === undefined ? "—" : intFmt.format(v)),
  pct: (v) => (v === null || v === undefined ? "—" : numFmt.format(v) + "%"),
  secs: (v) => (v === null || v === undefined ? "—" : t("{n} s", { n: numFmt.format(v) })),
  time: (ts) => timeFmt.format(new Date(ts * 1000)),
  datetime: (ts) => dateTimeFmt.format(new Date(ts * 1000)),
  /** A duration as m:ss or h:mm:ss (digits localized). */
  dur(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${intFmt.format(h)}:${String(m).padStart(2, "0")}:${ss}` : `${intFmt.format(m)}:${ss}`;
  },
};

// ------------------------------------------------------------------ DOM

/** el("div", {class: "x", dataset: {id: 1}, onclick: f}, "text", childNode) */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function option(value, label, selected) {
  const o = el("option", { value }, label);
  if (selected) o.selected = true;
  return o;
}

export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const n = el("div", { class: `toast ${kind}` }, message);
  box.append(n);
  setTimeout(() => n.remove(), kind === "error" ? 8000 : 4000);
}

// ------------------------------------------------------------------ API

export class ApiError extends Error {
  constructor(status, errorId, message, details) {
    super(message);
    this.status = status;
    this.errorId = errorId;
    this.details = details || {};
  }
}

/** Call /api/v1 with the session cookie and the CSRF header; JSON in, JSON out. */
export async function api(method, path, body) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch("/api/v1" + path, init);
  } catch (e) {
    throw new ApiError(0, "network", t("The server cannot be reached."));
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401) {
      location.href = "/ui/login?next=" + encodeURIComponent(location.pathname);
    }
    const d = data || {};
    throw new ApiError(res.status, d.error_id || "http_error", d.message || res.statusText, d.details);
  }
  return data;
}

/** A message for an API error in the user's language (the server's text as detail). */
export function errorText(err) {
  const known = {
    network: t("The server cannot be reached."),
    forbidden: t("You are not allowed to do this."),
    csrf_failed: t("Security check failed. Reload the page."),
    illegal_transition: t("That is not possible in the current state."),
    not_offered_to_agent: t("This offer is no longer yours."),
    unknown_reason: t("Unknown not-ready reason."),
    unknown_disposition: t("Unknown disposition code."),
    invalid_device: t("The device must be a sip: address, a phone number or the browser."),
    unknown_site: t("Unknown location."),
    validation_error: t("Some fields are not valid."),
  };
  const head = known[err.errorId] || t("Error");
  return err.message && !known[err.errorId] ? `${head}: ${err.message}` : head;
}

export function reportError(err) {
  console.warn(err);
  toast(err instanceof ApiError ? errorText(err) : String(err), "error");
}

// ------------------------------------------------------------------ live updates

/** The tenant's live events over /api/v1/ws (session cookie), reconnecting with backoff. */
export class Live {
  constructor(onMessage, onState) {
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.delay = 500;
    this.closed = false;
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 500;
      this.onState(true);
      setConn(true);
    });
    ws.addEventListener("message", (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      try {
        this.onMessage(msg);
      } catch (e) {
        console.error(e);
      }
    });
    ws.addEventListener("close", () => {
      this.onState(false);
      setConn(false);
      if (this.closed) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    });
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

function setConn(up) {
  const n = document.getElementById("conn");
  if (!n) return;
  n.hidden = false;
  n.className = "conn " + (up ? "up" : "down");
  n.textContent = up ? t("Live") : t("Reconnecting…");
}

// ------------------------------------------------------------------ page chrome

/** Keyboard shortcuts: {"KeyR": fn} for Alt+R (layout-independent key codes). */
export function shortcuts(map) {
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const fn = map[ev.code];
    if (fn) {
      ev.preventDefault();
      fn(ev);
    }
  });
}

// The language switcher submits itself when changed (its button is there without JS).
for (const sel of document.querySelectorAll("select[data-autosubmit]")) {
  sel.addEventListener("change", () => sel.form.requestSubmit());
  const btn = sel.form.querySelector("button.nojs");
  if (btn) btn.hidden = true;
}

export const CHANNELS = ["voice", "webrtc", "callback", "chat", "cobrowse", "email", "sms", "fax", "message"];
export const VOICE_CHANNELS = new Set(["voice", "webrtc", "callback"]);

export function channelLabel(ch) {
  return t("channel." + ch);
}

export function stateLabel(s) {
  return t("state." + s);
}

/** A not-ready reason in the user's language when the catalogue knows it (the codes
 * themselves are the tenant's own words). */
export function reasonLabel(r) {
  const key = "reason." + r;
  return Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : r;
}
