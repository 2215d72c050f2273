// The softphone: microphone and speaker for the browser device, and the call controls.
//
// Call control goes through /api/v1/calls/... (hold, resume, mute, unmute, dtmf,
// transfer, conference, hangup, and POST /api/v1/calls to dial). When the server has no
// voice service those routes answer 404 "not_found": the controls are then disabled
// with a message saying so; nothing is pretended.

import { api, ApiError, clear, option, t, toast, errorText } from "./common.js";

/** Does this error say the server has no voice service (route absent or not running)? */
export function unavailable(e) {
  return e instanceof ApiError && ((e.status === 404 && e.errorId === "not_found") || e.errorId === "voice_unavailable");
}

export class Softphone {
  constructor(root) {
    this.root = root;
    this.voice = null; // null: unknown, true/false after the probe
    this.stream = null;
    this.statusEl = root.querySelector("#voice-status");
    this.micEl = root.querySelector("#mic-status");
    this.micSelect = root.querySelector("#mic-select");
    this.spkSelect = root.querySelector("#speaker-select");
    this.audio = root.querySelector("#remote-audio");
    this.spkSelect.addEventListener("change", () => this.setSpeaker(this.spkSelect.value));
    this.micSelect.addEventListener("change", () => this.openMic(this.micSelect.value));
    root.querySelector("#dial-btn").addEventListener("click", () => this.dial());
    for (const b of root.querySelectorAll("[data-digit]")) {
      b.addEventListener("click", () => this.dtmf(b.dataset.digit));
    }
    this.activeCall = null; // contact id of the focused voice contact
  }

  /** Is voice control available on this server? GET /api/v1/calls answers 200 when the
   * voice service runs, 503 voice_unavailable when it does not, 404 without the route. */
  async probe() {
    try {
      await api("GET", "/calls");
      this.setVoice(true);
    } catch (e) {
      this.setVoice(false, unavailable(e) ? null : errorText(e));
    }
    return this.voice;
  }

  setVoice(available, why) {
    this.voice = available;
    this.statusEl.hidden = available;
    if (!available) {
      this.statusEl.textContent =
        why || t("Voice is not available on this server: call controls are disabled.");
    }
    for (const b of document.querySelectorAll("[data-voice]")) b.disabled = !available;
  }

  /** Open the microphone (browser device only) and list audio devices. */
  async openMic(deviceId) {
    this.micEl.hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.showMicError(t("This browser cannot use a microphone here (a secure connection is needed)."));
      return false;
    }
    try {
      if (this.stream) this.stream.getTracks().forEach((tr) => tr.stop());
      const audio = deviceId ? { deviceId: { exact: deviceId } } : true;
      this.stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
    } catch (e) {
      const name = e && e.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        this.showMicError(t("Microphone access was denied. Allow the microphone for this site in the browser's settings, then reload the page."));
      } else if (name === "NotFoundError" || name === "OverconstrainedError") {
        this.showMicError(t("No microphone was found. Connect one and choose it below."));
      } else if (name === "NotReadableError") {
        this.showMicError(t("The microphone is in use by another program."));
      } else {
        this.showMicError(t("The microphone could not be opened: {error}", { error: String(name || e) }));
      }
      await this.listDevices();
      return false;
    }
    await this.listDevices();
    return true;
  }

  showMicError(text) {
    this.micEl.hidden = false;
    this.micEl.textContent = text;
  }

  async listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (e) {
      return;
    }
    const current = this.stream && this.stream.getAudioTracks()[0];
    const currentId = current && current.getSettings ? current.getSettings().deviceId : "";
    clear(this.micSelect);
    clear(this.spkSelect);
    let n = 0;
    for (const d of devices) {
      n += 1;
      if (d.kind === "audioinput") {
        this.micSelect.append(option(d.deviceId, d.label || t("Microphone {n}", { n }), d.deviceId === currentId));
      } else if (d.kind === "audiooutput") {
        this.spkSelect.append(option(d.deviceId, d.label || t("Speaker {n}", { n })));
      }
    }
    if (!this.micSelect.options.length) this.micSelect.append(option("", t("none")));
    if (!this.spkSelect.options.length) this.spkSelect.append(option("", t("default")));
    this.spkSelect.disabled = typeof this.audio.setSinkId !== "function";
  }

  async setSpeaker(id) {
    if (typeof this.audio.setSinkId === "function") {
      try {
        await this.audio.setSinkId(id);
      } catch (e) {
        toast(t("The speaker could not be selected."), "error");
      }
    }
  }

  stop() {
    if (this.stream) this.stream.getTracks().forEach((tr) => tr.stop());
    this.stream = null;
  }

  /** Run a call action; a 404 not_found (no such route) turns voice off. */
  async call(contactId, action, body) {
    if (this.voice === false) {
      toast(t("Voice is not available on this server: call controls are disabled."), "error");
      return null;
    }
    try {
      return await api("POST", `/calls/${encodeURIComponent(contactId)}/${action}`, body || {});
    } catch (e) {
      if (unavailable(e)) this.setVoice(false);
      toast(errorText(e), "error");
      return null;
    }
  }

  async dtmf(digit) {
    if (!this.activeCall) {
      const input = this.root.querySelector("#dial-number");
      input.value += digit;
      return;
    }
    await this.call(this.activeCall, "dtmf", { digits: digit });
  }

  async dial() {
    const to = this.root.querySelector("#dial-number").value.trim();
    if (!to) return;
    if (this.voice === false) {
      toast(t("Voice is not available on this server: call controls are disabled."), "error");
      return;
    }
    try {
      await api("POST", "/calls", { number: to });
      toast(t("Calling {number}…", { number: to }));
    } catch (e) {
      if (unavailable(e)) this.setVoice(false);
      toast(errorText(e), "error");
    }
  }
}
