// Interval charts drawn by hand in SVG: grouped bars (offered, handled, abandoned) and
// a service-level line on a 0-100 % scale. Labels are set with textContent.

import { fmt, t } from "./common.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** A "nice" axis maximum and step for counts. */
export function niceMax(v) {
  if (v <= 5) return { max: 5, step: 1 };
  const mag = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * mag >= v) return { max: m * mag, step: (m * mag) / 5 };
  }
  return { max: 10 * mag, step: 2 * mag };
}

export function drawIntervals(box, starts, series, now) {
  while (box.firstChild) box.removeChild(box.firstChild);
  // show the intervals up to now (at least the first 8 hours of the day)
  let n = starts.findIndex((s) => s > now);
  if (n < 0) n = starts.length;
  n = Math.max(n, Math.min(16, starts.length));
  const W = 960, H = 300, L = 44, R = 44, T = 12, B = 34;
  const pw = W - L - R, ph = H - T - B;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img" });
  root.append(svg("title", {}, t("Today by interval")));
  const maxVal = Math.max(1, ...series.slice(0, n).map((s) => Math.max(s.offered, s.handled, s.abandoned)));
  const { max, step } = niceMax(maxVal);
  const y = (v) => T + ph - (v / max) * ph;
  const ySl = (v) => T + ph - (v / 100) * ph;
  for (let v = 0; v <= max + 1e-9; v += step) {
    root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "gridline" }));
    root.append(svg("text", { x: L - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, fmt.int(v)));
  }
  for (const p of [0, 50, 100]) {
    root.append(svg("text", { x: W - R + 6, y: ySl(p) + 4, class: "axis sl-axis" }, fmt.pct(p)));
  }
  const slot = pw / n;
  const bw = Math.max(2, (slot * 0.8) / 3);
  const keys = ["offered", "handled", "abandoned"];
  const points = [];
  for (let i = 0; i < n; i++) {
    const s = series[i] || { offered: 0, handled: 0, abandoned: 0, sl_pct: null };
    const x0 = L + i * slot + slot * 0.1;
    keys.forEach((k, j) => {
      const v = s[k] || 0;
      if (!v) return;
      const r = svg("rect", { x: x0 + j * bw, y: y(v), width: bw - 1, height: T + ph - y(v), class: "bar " + k });
      r.append(svg("title", {}, `${fmt.time(starts[i])} ${t(k === "offered" ? "Offered" : k === "handled" ? "Handled" : "Abandoned")}: ${fmt.int(v)}`));
      root.append(r);
    });
    if (s.sl_pct !== null && s.sl_pct !== undefined) points.push([L + i * slot + slot / 2, ySl(s.sl_pct)]);
    if (i % 2 === 0) {
      root.append(svg("text", { x: L + i * slot + slot / 2, y: H - B + 16, class: "axis", "text-anchor": "middle" }, fmt.time(starts[i])));
    }
  }
  if (points.length) {
    root.append(svg("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "sl-line" }));
    for (const [px, py] of points) root.append(svg("circle", { cx: px, cy: py, r: 3, class: "sl-dot" }));
  }
  root.append(svg("line", { x1: L, x2: W - R, y1: T + ph, y2: T + ph, class: "axisline" }));
  box.append(root);
}
