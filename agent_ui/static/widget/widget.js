// ipcc web chat widget. Embed with one tag:
//   <script src="https://chat.example.com:8081/widget.js" data-tenant="demo"
//           data-entry="sales" async></script>
// Optional: data-chat-url (ws[s]://host:port when the script is served elsewhere),
// data-topics="billing:Billing,tech:Technical" (pre-chat topic choice),
// data-form="off" (no pre-chat form), data-title, data-lang.
//
// Visitor text is only ever put in the page with textContent: never parsed as HTML.
// Every message carries a client id and stays in an outbox (localStorage) until the
// server acknowledges that it stored it, so a reload or a lost connection re-sends it
// and the server delivers it once. The resume token brings back the conversation.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const cfg = script.dataset;
  const tenant = cfg.tenant || "";
  const entry = cfg.entry || "";
  const src = new URL(script.src, location.href);
  const chatUrl = (cfg.chatUrl || (src.protocol === "https:" ? "wss://" : "ws://") + src.host)
    .replace(/\/$/, "") + "/" + encodeURIComponent(tenant);
  const KEY = "ipcc-chat:" + tenant + ":" + entry;
  const L = {
    open: "Chat with us", title: cfg.title || "Chat", start: "Start chat", name: "Name",
    email: "E-mail", topic: "Topic", send: "Send", placeholder: "Type a message…",
    waiting: "Waiting for an agent", position: "Your position: ", wait: "Estimated wait: ",
    joined: " joined the chat", typing: "Agent is typing…", read: "Read", end: "End chat",
    ended: "The chat has ended.", offline: "No agent is available right now. Leave us a message and we will get back to you.",
    leave: "Send message", left: "Thank you, we received your message.", transcript: "E-mail transcript",
    sent: "Transcript sent to ", attach: "Attach file", reconnecting: "Reconnecting…",
    transferring: "Transferring you to another agent…", slow: "Please slow down.",
    failed: "Not sent: ", close: "Close",
  };

  // ------------------------------------------------------------------ state

  const saved = load();
  const st = {
    resume: saved.resume || null, lastSeq: saved.lastSeq || 0, outbox: saved.outbox || [],
    state: null, ws: null, retry: 0, seen: new Set(), open: !!saved.resume, readByAgent: 0,
    myMessages: new Map(), typingTimer: null, typingSent: 0, ended: false,
  };

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ resume: st.resume, lastSeq: st.lastSeq,
                                                 outbox: st.outbox }));
    } catch (e) { /* private mode: the chat still works until reload */ }
  }
  function forget() {
    st.resume = null; st.lastSeq = 0; st.outbox = [];
    try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // -------------------------------------------------------------------- DOM

  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v);
    }
    for (const k of kids) if (k) n.append(k);
    return n;
  }

  const host = el("div", { id: "ipcc-chat-widget" });
  const root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  const css = el("link", { rel: "stylesheet", href: new URL("widget.css", src).href });
  const launcher = el("button", { class: "launcher", type: "button", text: L.open,
                                  "data-testid": "chat-open", onclick: () => show(true) });
  const panel = el("section", { class: "panel", role: "dialog", "aria-label": L.title,
                                hidden: "" });
  const header = el("header", {}, el("span", { text: L.title }),
                    el("button", { type: "button", class: "x", "aria-label": L.close,
                                   text: "×", onclick: () => show(false) }));
  const status = el("div", { class: "status", "aria-live": "polite",
                             "data-testid": "chat-status" });
  const log = el("ol", { class: "log", "aria-live": "polite", "data-testid": "chat-log" });
  const typing = el("div", { class: "typing", hidden: "", text: L.typing,
                             "data-testid": "chat-typing" });
  const body = el("div", { class: "body" });
  panel.append(header, status, body, typing);
  root.append(css, launcher, panel);
  (document.body || document.documentElement).append(host);

  function show(on) {
    st.open = on;
    if (on) { panel.removeAttribute("hidden"); launcher.setAttribute("hidden", ""); }
    else { panel.setAttribute("hidden", ""); launcher.removeAttribute("hidden"); }
    if (on && !st.ws && !st.resume) renderForm();
    if (on) markRead();
  }

  function setStatus(text) { status.textContent = text || ""; }

  function renderForm() {
    body.replaceChildren();
    const form = el("form", { class: "form", "data-testid": "chat-form" });
    const fields = {};
    if (cfg.form !== "off") {
      fields.name = el("input", { name: "name", autocomplete: "name", maxlength: "200" });
      fields.email = el("input", { name: "email", type: "email", autocomplete: "email",
                                   maxlength: "254" });
      form.append(el("label", {}, el("span", { text: L.name }), fields.name),
                  el("label", {}, el("span", { text: L.email }), fields.email));
      if (cfg.topics) {
        fields.topic = el("select", { name: "topic" });
        for (const pair of cfg.topics.split(",")) {
          const [id, label] = pair.split(":");
          fields.topic.append(el("option", { value: id.trim(), text: (label || id).trim() }));
        }
        form.append(el("label", {}, el("span", { text: L.topic }), fields.topic));
      }
    }
    form.append(el("button", { type: "submit", text: L.start, "data-testid": "chat-start" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const f = {};
      for (const [k, input] of Object.entries(fields)) if (input.value) f[k] = input.value;
      renderConversation();
      connect({ entry, form: f });
    });
    body.append(form);
  }

  let input, fileInput;
  function renderConversation() {
    body.replaceChildren();
    input = el("textarea", { rows: "2", placeholder: L.placeholder, maxlength: "4000",
                             "data-testid": "chat-input" });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendText(); }
    });
    input.addEventListener("input", sendTyping);
    fileInput = el("input", { type: "file", class: "file", "aria-label": L.attach });
    fileInput.addEventListener("change", sendFile);
    const bar = el("div", { class: "bar" }, input,
                   el("button", { type: "button", text: L.send, "data-testid": "chat-send",
                                  onclick: sendText }));
    const tools = el("div", { class: "tools" }, fileInput,
                     el("button", { type: "button", class: "link", text: L.transcript,
                                    onclick: askTranscript }),
                     el("button", { type: "button", class: "link", text: L.end,
                                    "data-testid": "chat-end", onclick: endChat }));
    body.append(log, bar, tools);
  }

  function renderOffline() {
    body.replaceChildren();
    const text = el("textarea", { rows: "4", maxlength: "4000", "data-testid": "chat-offline-text" });
    const name = el("input", { name: "name", placeholder: L.name });
    const email = el("input", { name: "email", type: "email", placeholder: L.email });
    const form = el("form", { class: "form" }, el("p", { text: L.offline }), name, email, text,
                    el("button", { type: "submit", text: L.leave }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      send({ type: "leave_message", client_id: newId(), text: text.value,
             name: name.value, email: email.value });
    });
    body.append(form);
  }

  function addMessage(m) {
    if (st.seen.has(m.id)) return;
    st.seen.add(m.id);
    if (m.seq > st.lastSeq) { st.lastSeq = m.seq; save(); }
    const li = el("li", { class: "msg " + m.sender, "data-seq": String(m.seq) });
    li.append(el("span", { class: "text", text: m.text || "" }));
    if (m.attachment) li.append(el("span", { class: "file", text: "📎 " + m.attachment.name }));
    if (m.sender === "visitor") {
      const r = el("small", { class: "receipt" });
      li.append(r);
      st.myMessages.set(m.seq, r);
    }
    if (m.client_id) {
      const pend = log.querySelector('[data-pending="' + CSS.escape(m.client_id) + '"]');
      if (pend) pend.remove();
    }
    const after = [...log.children].find((n) => Number(n.dataset.seq) > m.seq);
    log.insertBefore(li, after || null);
    log.scrollTop = log.scrollHeight;
    showReceipts();
    if (m.sender !== "visitor") markRead();
  }

  function addPending(item) {
    const li = el("li", { class: "msg visitor pending", "data-pending": item.client_id });
    li.append(el("span", { class: "text", text: item.text || ("📎 " + (item.name || "")) }));
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }

  function showReceipts() {
    for (const [seq, node] of st.myMessages) node.textContent = seq <= st.readByAgent ? L.read : "";
  }

  function markRead() {
    if (st.open && st.ws && st.ws.readyState === 1 && st.lastSeq)
      st.ws.send(JSON.stringify({ type: "read", seq: st.lastSeq }));
  }

  // ------------------------------------------------------------- connection

  function connect(hello) {
    const ws = new WebSocket(chatUrl);
    st.ws = ws;
    ws.onopen = () => {
      st.retry = 0;
      ws.send(JSON.stringify(st.resume ? { type: "hello", resume: st.resume, last_seq: 0 }
                                       : { type: "hello", ...hello }));
    };
    ws.onmessage = (e) => onFrame(JSON.parse(e.data));
    ws.onclose = () => {
      if (st.ws !== ws) return;
      st.ws = null;
      if (st.ended || !st.resume) return;
      setStatus(L.reconnecting);
      const delay = Math.min(30000, 500 * 2 ** st.retry++);
      setTimeout(() => connect(null), delay);
    };
  }

  function send(frame) {
    if (st.ws && st.ws.readyState === 1) st.ws.send(JSON.stringify(frame));
  }

  function flushOutbox() {
    for (const item of st.outbox) send(item);
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        st.resume = f.resume; st.state = f.state; save();
        if (f.state === "offline") { renderOffline(); break; }
        if (f.state === "ended") { setStatus(L.ended); st.ended = true; forget(); break; }
        if (!input) renderConversation();
        for (const m of f.messages) addMessage(m);
        st.readByAgent = (f.read || {}).agent || 0;
        showReceipts();
        for (const item of st.outbox) if (!log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]')) addPending(item);
        flushOutbox();
        queueStatus(f);
        if (f.agent) setStatus(f.agent + L.joined);
        markRead();
        break;
      case "ack":
        st.outbox = st.outbox.filter((i) => i.client_id !== f.client_id);
        save();
        addMessage(f.message);
        break;
      case "message":
        addMessage(f.message);
        typing.setAttribute("hidden", "");
        break;
      case "queue": queueStatus(f); break;
      case "agent_joined": st.state = "active"; setStatus(f.agent + L.joined); break;
      case "transferring": setStatus(L.transferring); break;
      case "typing":
        if (f.on) typing.removeAttribute("hidden"); else typing.setAttribute("hidden", "");
        clearTimeout(st.typingTimer);
        st.typingTimer = setTimeout(() => typing.setAttribute("hidden", ""), 6000);
        break;
      case "read": st.readByAgent = Math.max(st.readByAgent, f.seq); showReceipts(); break;
      case "offline": renderOffline(); break;
      case "transcript_sent": setStatus(L.sent + f.email); break;
      case "ended":
        st.ended = true;
        setStatus(f.reason === "message_left" ? L.left : L.ended);
        if (f.reason === "message_left") body.replaceChildren(el("p", { text: L.left }));
        forget();
        break;
      case "error":
        if (f.code === 404 && !st.state) { forget(); renderForm(); break; }
        if (f.client_id && f.code !== 429) {
          st.outbox = st.outbox.filter((i) => i.client_id !== f.client_id);
          save();
          const pend = log && log.querySelector('[data-pending="' + CSS.escape(f.client_id) + '"]');
          if (pend) pend.classList.add("failed");
        }
        setStatus(f.code === 429 ? L.slow : L.failed + f.message);
        if (f.code === 429) setTimeout(flushOutbox, Math.ceil((f.retry_after || 1) * 1000));
        break;
    }
  }

  function queueStatus(f) {
    if (st.state !== "waiting" || f.position == null) return;
    let s = L.waiting + " — " + L.position + f.position;
    if (f.ewt_s != null) s += " · " + L.wait + Math.max(1, Math.round(f.ewt_s / 60)) + " min";
    setStatus(s);
  }

  // ---------------------------------------------------------------- actions

  function sendText() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    const item = { type: "message", client_id: newId(), text };
    st.outbox.push(item); save();
    addPending(item);
    send(item);
  }

  function sendTyping() {
    const now = Date.now();
    if (now - st.typingSent < 2000) return;
    st.typingSent = now;
    send({ type: "typing", on: true });
  }

  function sendFile() {
    const file = fileInput.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      const data = String(reader.result).split(",", 2)[1] || "";
      const item = { type: "attachment", client_id: newId(), name: file.name,
                     mime: file.type || "application/octet-stream", data };
      addPending(item);
      send(item); // not kept in the outbox: too large for localStorage
      fileInput.value = "";
    };
    reader.readAsDataURL(file);
  }

  function askTranscript() {
    const email = window.prompt(L.email);
    if (email) send({ type: "transcript", email });
  }

  function endChat() {
    send({ type: "end" });
  }

  if (st.resume) { show(true); renderConversation(); connect(null); }
})();
