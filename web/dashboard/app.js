// SPDX-License-Identifier: MIT
// The groundctl dashboard: polls the daemon's JSON API (/api/v1/*) every 10 s and renders status
// tiles, one uPlot chart per metric and the alert and backup tables. Plain DOM; no inline styles
// or scripts, which the page's Content-Security-Policy forbids.
"use strict";

(function () {
  const REFRESH_MS = 10000;
  const TOKEN_KEY = "groundctl.token";
  const RANGE_KEY = "groundctl.range";
  const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
                  "#4b5563"];

  // One chart each. A series name gives one line per label value (`label`), or one line named
  // `as` when it has no such label.
  const CHARTS = [
    { title: "CPU", unit: "ratio", series: [{ name: "host_cpu_usage_ratio", as: "cpu" }] },
    { title: "Memory", unit: "ratio", series: [{ name: "host_memory_used_ratio", as: "used" }] },
    { title: "Disk used", unit: "ratio",
      series: [{ name: "host_filesystem_used_ratio", label: "mountpoint" }] },
    { title: "Load (1 min)", unit: "number", series: [{ name: "host_load1", as: "load1" }] },
    { title: "Requests / s (nginx)", unit: "number",
      series: [{ name: "http_requests_per_second", as: "requests/s" }] },
    { title: "p95 latency", unit: "seconds",
      series: [{ name: "http_latency_p95_seconds", as: "nginx" },
               { name: "probe_latency_p95_seconds", label: "probe", prefix: "probe " }] },
    { title: "5xx ratio", unit: "ratio", series: [{ name: "http_5xx_ratio", as: "5xx" }] },
    { title: "App errors / min", unit: "number",
      series: [{ name: "app_errors_per_minute", label: "service" }] },
    { title: "PostgreSQL connections", unit: "number",
      series: [{ name: "pg_connections", as: "connections" },
               { name: "pg_max_connections", as: "max" }] },
    { title: "Service CPU", unit: "ratio",
      series: [{ name: "service_cpu_ratio", label: "service" }] },
    { title: "Service memory (RSS)", unit: "bytes",
      series: [{ name: "service_resident_memory_bytes", label: "service" }] },
  ];

  const $ = (sel) => document.querySelector(sel);
  let range = storageGet(RANGE_KEY) || "24h";
  const charts = new Map();  // title → { box, plot, key }
  let refreshing = false;
  let again = false;  // A refresh was asked for while one ran (a new range): run once more.
  let timer = 0;

  // ---- small helpers ----------------------------------------------------------------------

  function storageGet(key) {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try {
      if (value === null) sessionStorage.removeItem(key); else sessionStorage.setItem(key, value);
    } catch (e) { /* Storage disabled: the value lasts until the page is left. */ }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Milliseconds since the epoch from an RFC 3339 string or a number of ms; NaN if neither.
  function toMs(t) {
    if (typeof t === "number") return t;
    if (typeof t === "string" && t !== "") return Date.parse(t);
    return NaN;
  }

  // "5 min ago", or "in 2 h" for a time to come.
  function ago(t) {
    const ms = toMs(t);
    if (Number.isNaN(ms)) return "";
    const future = ms > Date.now() + 1000;
    const s = Math.abs(Date.now() - ms) / 1000;
    const text = s < 90 ? Math.round(s) + " s"
      : s < 90 * 60 ? Math.round(s / 60) + " min"
      : s < 36 * 3600 ? Math.round(s / 3600) + " h"
      : Math.round(s / 86400) + " d";
    return future ? "in " + text : text + " ago";
  }

  function when(t) {
    const ms = toMs(t);
    return Number.isNaN(ms) ? (t || "") : new Date(ms).toLocaleString() + " (" + ago(ms) + ")";
  }

  function bytes(n) {
    if (typeof n !== "number" || !Number.isFinite(n)) return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
  }

  function formatValue(unit, v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "";
    switch (unit) {
      case "ratio": return (v * 100).toFixed(v < 0.1 ? 1 : 0) + " %";
      case "bytes": return bytes(v);
      case "seconds": return v < 1 ? (v * 1000).toFixed(0) + " ms" : v.toFixed(2) + " s";
      default: return Math.abs(v) >= 100 ? v.toFixed(0) : String(+v.toFixed(2));
    }
  }

  function labelText(labels) {
    if (!labels || typeof labels !== "object") return "";
    return Object.keys(labels).filter((k) => k !== "alertname")
      .map((k) => k + "=" + labels[k]).join(", ");
  }

  // ---- API --------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(path, status) {
      super(path + ": HTTP " + status);
      this.status = status;
    }
  }

  // GET `path` (relative, so a reverse proxy may mount the dashboard under a prefix) as JSON.
  async function api(path) {
    const headers = { Accept: "application/json" };
    const token = storageGet(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(path, { headers, cache: "no-store", credentials: "same-origin" });
    if (!res.ok) throw new ApiError(path, res.status);
    return res.json();
  }

  // ---- status tiles -----------------------------------------------------------------------

  function setTile(id, state, value, detail) {
    const tile = $("#tile-" + id);
    tile.classList.remove("ok", "warn", "bad");
    if (state) tile.classList.add(state);
    tile.querySelector(".value").textContent = value;
    const d = tile.querySelector(".detail");
    d.replaceChildren();
    for (const item of [].concat(detail || [])) d.append(item);
  }

  function renderServices(status) {
    const services = Array.isArray(status.services) ? status.services : [];
    if (services.length === 0) return setTile("services", "", "none", "no [[service]] configured");
    let running = 0, desired = 0, failed = false, short = false;
    const lines = [];
    for (const s of services) {
      const up = s.running || 0, want = s.instances || 0;
      running += up;
      desired += want;
      const isFailed = s.state === "failed";
      failed = failed || isFailed;
      short = short || up < want;
      const line = el("span", isFailed ? "bad-text" : "",
                      `${s.name} ${s.state || ""} ${up}/${want}` +
                      (s.restarts ? `, ${s.restarts} restarts` : ""));
      lines.push(line, el("br"));
    }
    setTile("services", failed ? "bad" : short ? "warn" : "ok",
            `${running}/${desired} running`, lines);
  }

  function renderBackupTile(status) {
    const b = status.backup;
    if (!b || typeof b !== "object" || (!b.enabled && !b.last_success && !b.last_run)) {
      return setTile("backup", "", "not configured", "");
    }
    const last = b.last_success;
    const run = b.last_run;
    const verify = (b.last_set && b.last_set.verify_result) || "";
    const detail = [];
    let state = "ok";
    if (!last) {
      state = run && run.ok === false ? "bad" : "warn";
    }
    if (verify === "passed") detail.push("verified");
    else if (verify === "failed") { state = "bad"; detail.push("verification failed"); }
    else if (last) detail.push("not verified yet");
    if (run && run.ok === false) {
      state = "bad";
      detail.push(el("br"), "last run failed: " + (run.error || "unknown error"));
    }
    if (b.next_run) detail.push(el("br"), "next " + when(b.next_run));
    setTile("backup", state, last ? ago(last.finished_at) || "done" : "never", detail);
  }

  // From the status's monitored certificates (the TLS collector), else from the certificate
  // alerts. Any certificate unreadable or not valid turns the tile red; else the soonest expiry
  // sets it.
  function renderCertificateTile(status, alerts) {
    const certs = status.certificates;
    if (Array.isArray(certs) && certs.length > 0) {
      const broken = certs.filter((c) => !c.ok || !c.valid);
      const expiries = certs.map((c) => toMs(c.expires_at)).filter((t) => t > 0);
      const days = expiries.length > 0
        ? Math.floor((Math.min(...expiries) - Date.now()) / 86400000) : NaN;
      const detail = `${certs.length} checked` +
        (broken.length > 0 ? `; not valid: ${broken.map((c) => c.source).join(", ")}` : "");
      if (broken.length > 0) {
        return setTile("certificate", "bad", broken.some((c) => !c.ok) ? "unreadable" : "not valid",
                       detail);
      }
      if (!Number.isNaN(days)) {
        return setTile("certificate", days < 3 ? "bad" : days < 14 ? "warn" : "ok",
                       `expires in ${days} d`, detail);
      }
    }
    const list = alerts && Array.isArray(alerts.alerts) ? alerts.alerts : [];
    const certAlerts = list.filter((a) => /^Certificate/.test(a.name || ""));
    if (certAlerts.length > 0) {
      const firing = certAlerts.some((a) => a.state === "firing");
      return setTile("certificate", firing ? "bad" : "warn", firing ? "alert firing" : "alert pending",
                     certAlerts.map((a) => a.summary).join("; "));
    }
    setTile("certificate", "", "not monitored", "");
  }

  function renderAlertsTile(status, alerts) {
    const list = alerts && Array.isArray(alerts.alerts) ? alerts.alerts
      : ((status.alerts && status.alerts.firing) || []).map((a) => ({ ...a, state: "firing" }));
    const firing = list.filter((a) => a.state === "firing");
    const loud = firing.filter((a) => !a.silenced);
    const pending = list.length - firing.length;
    setTile("alerts", loud.length > 0 ? "bad" : firing.length > 0 ? "warn" : "ok",
            `${firing.length} firing`,
            `${pending} pending` + (firing.length > loud.length
              ? `, ${firing.length - loud.length} silenced` : ""));
  }

  // ---- tables -----------------------------------------------------------------------------

  function fillTable(id, rows, empty) {
    const body = $("#" + id + " tbody");
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = el("tr");
      const td = el("td", "muted", empty);
      td.colSpan = $("#" + id + " thead tr").children.length;
      tr.append(td);
      body.append(tr);
      return;
    }
    for (const cells of rows) {
      const tr = el("tr");
      for (const c of cells) tr.append(c instanceof Node ? c : el("td", "", c));
      body.append(tr);
    }
  }

  function stateCell(text, cls) {
    const td = el("td");
    td.append(el("span", "pill " + cls, text));
    return td;
  }

  function renderAlerts(alerts) {
    const list = Array.isArray(alerts.alerts) ? alerts.alerts.slice() : [];
    list.sort((a, b) => (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1));
    fillTable("alerts", list.map((a) => [
      stateCell(a.state, a.state === "firing" ? "bad" : "warn"),
      a.name, labelText(a.labels), typeof a.value === "number" ? +a.value.toFixed(4) : a.value,
      when(a.state === "firing" ? a.fired_at || a.active_since : a.active_since),
      a.summary, a.silenced ? "yes" : "",
    ]), "no alerts firing or pending");
    const history = Array.isArray(alerts.history) ? alerts.history : [];
    fillTable("history", history.slice(0, 50).map((h) => [
      when(h.at), stateCell(h.event, h.event === "firing" ? "bad" : "ok"), h.name,
      labelText(h.labels), h.summary, h.notified ? "yes" : "",
    ]), "no alert has fired yet");
  }

  function renderBackups(backups) {
    const sets = backups && Array.isArray(backups.sets) ? backups.sets : [];
    const verify = (s) => s.verify_result || (s.verification && s.verification.result) ||
      (s.verified === true ? "passed" : s.verified === false ? "not_run" : "");
    fillTable("backups", sets.map((s) => [
      s.id || s.set_id || "", when(s.finished_at), bytes(s.bytes ?? s.size_bytes),
      verify(s), s.upload || s.upload_state || "",
    ]), backups && (backups.enabled || backups.last_run) ? "no backup yet" : "backups not configured");
    const summary = [];
    if (backups && backups.next_run) summary.push("next run " + when(backups.next_run));
    if (backups && backups.last_run && backups.last_run.ok === false) {
      summary.push("last run failed: " + (backups.last_run.error || "unknown error"));
    }
    $("#backup-summary").textContent = summary.join(" · ");
  }

  // ---- charts -----------------------------------------------------------------------------

  const RANGE_SECONDS = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };

  // The lines of one chart as [{name, points}], from its series names; 404 means no data yet.
  async function loadChart(def) {
    const lines = [];
    for (const s of def.series) {
      let r;
      try {
        r = await api("api/v1/series?name=" + encodeURIComponent(s.name) + "&range=" + range);
      } catch (e) {
        if (e.status === 404) continue;
        throw e;
      }
      // Times on the response's step grid, so that the lines of different names share x values.
      const step = r && r.step_s > 0 ? r.step_s : 1;
      for (const one of (r && r.series) || []) {
        if (!Array.isArray(one.points) || one.points.length === 0) continue;
        const lv = s.label && one.labels ? one.labels[s.label] : undefined;
        lines.push({ name: lv !== undefined ? (s.prefix || "") + lv : s.as || s.name,
                     points: one.points.map(([t, v]) => [Math.round(t / step) * step, v]) });
      }
    }
    return lines;
  }

  // uPlot's aligned form: one x array (seconds) and one y array per line, null where a line has
  // no point at that time.
  function aligned(lines) {
    const xs = [...new Set(lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    for (const l of lines) {
      const ys = new Array(xs.length).fill(null);
      for (const [t, v] of l.points) ys[index.get(t)] = typeof v === "number" ? v : null;
      data.push(ys);
    }
    return data;
  }

  function chartWidth(box) {
    return Math.max(240, box.querySelector(".plot").clientWidth);
  }

  function makePlot(def, box, lines) {
    const fmt = (u, v) => formatValue(def.unit, v);
    const opts = {
      width: chartWidth(box),
      height: 180,
      series: [{}].concat(lines.map((l, i) => ({
        label: l.name, stroke: COLORS[i % COLORS.length], width: 1.5, value: fmt,
      }))),
      axes: [{}, { size: 64, values: (u, splits) => splits.map((v) => formatValue(def.unit, v)) }],
      scales: {
        // The whole range asked for, up to now, however few points there are yet.
        x: { time: true, range: () => {
          const now = Date.now() / 1000;
          return [now - (RANGE_SECONDS[range] || 86400), now];
        } },
        y: def.unit === "ratio" ? { range: (u, min, max) => [0, Math.max(max, 0.01)] }
          : { range: (u, min, max) => [Math.min(0, min), Math.max(max, min + 1e-9)] },
      },
      legend: { live: true },
    };
    return new uPlot(opts, aligned(lines), box.querySelector(".plot"));
  }

  function chartBox(def) {
    let c = charts.get(def.title);
    if (c) return c;
    const box = el("figure", "chart");
    box.append(el("figcaption", "", def.title), el("div", "plot"));
    $("#charts").append(box);
    c = { box, plot: null, key: "" };
    charts.set(def.title, c);
    return c;
  }

  // Draws or updates one chart; returns whether it has a plot.
  function renderChart(def, lines) {
    const c = chartBox(def);
    const key = range + "|" + lines.map((l) => l.name).join("|");
    if (lines.length === 0) {
      if (c.plot) { c.plot.destroy(); c.plot = null; }
      c.key = "";
      c.box.querySelector(".plot").replaceChildren(el("p", "muted nodata", "no data yet"));
      return false;
    }
    if (c.plot && c.key === key) {
      c.plot.setData(aligned(lines));
    } else {
      if (c.plot) c.plot.destroy();
      c.box.querySelector(".plot").replaceChildren();
      c.plot = makePlot(def, c.box, lines);
      c.key = key;
    }
    return true;
  }

  // ---- refresh ----------------------------------------------------------------------------

  function showErrors(errors) {
    const banner = $("#error");
    banner.hidden = errors.length === 0;
    banner.textContent = errors.join("\n");
  }

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    again = false;
    const errors = [];
    let needToken = false;
    const failed = (what, e) => {
      const text = (what ? what + ": " : "") + (e && e.message ? e.message : String(e));
      errors.push(text);
      console.error("groundctl dashboard: " + text);
    };
    const get = (path) => api(path).catch((e) => {
      if (e.status === 401) needToken = true;
      // /api/v1/backups answers 404 when no [backup] is configured.
      else if (!(path.endsWith("/backups") && e.status === 404)) failed("", e);
      return null;
    });
    try {
      const [status, alerts, backups] = await Promise.all(
        [get("api/v1/status"), get("api/v1/alerts"), get("api/v1/backups")]);
      $("#token-form").hidden = !needToken;
      $("#forget-token").hidden = !storageGet(TOKEN_KEY);
      if (needToken) {
        failed("", new Error("the API needs a token (HTTP 401): enter it below"));
        return;
      }
      const steps = [
        ["status", () => {
          if (!status) return;
          $("#server-name").textContent = status.server || "";
          renderServices(status);
          renderBackupTile(status);
          renderCertificateTile(status, alerts);
          renderAlertsTile(status, alerts);
        }],
        ["alerts", () => alerts && renderAlerts(alerts)],
        ["backups", () => renderBackups(backups)],
      ];
      for (const [what, step] of steps) {
        try { step(); } catch (e) { failed("rendering " + what, e); }
      }
      const results = await Promise.all(CHARTS.map((def) => loadChart(def).then(
        (lines) => renderChart(def, lines),
        (e) => { failed(def.title, e); return false; })));
      const drawn = results.filter(Boolean).length;
      $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
      document.body.dataset.rendered = String(drawn);
    } catch (e) {
      failed("refresh", e);
    } finally {
      showErrors(errors);
      refreshing = false;
    }
    if (again) await refresh();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => { await refresh(); schedule(); }, REFRESH_MS);
  }

  function setRange(r) {
    range = r;
    storageSet(RANGE_KEY, r);
    for (const b of document.querySelectorAll("#ranges button")) {
      b.setAttribute("aria-pressed", String(b.dataset.range === r));
    }
  }

  // The charts' boxes, in CHARTS order, before any data arrives.
  function layoutCharts() {
    for (const def of CHARTS) chartBox(def).box.querySelector(".plot").replaceChildren(
      el("p", "muted nodata", "loading…"));
  }

  function start() {
    if (typeof uPlot !== "function") {
      showErrors(["uPlot did not load"]);
      console.error("groundctl dashboard: uPlot did not load");
      return;
    }
    setRange(range in RANGE_SECONDS ? range : "24h");
    layoutCharts();
    $("#ranges").addEventListener("click", (ev) => {
      const r = ev.target.dataset && ev.target.dataset.range;
      if (!r || r === range) return;
      setRange(r);
      refresh().then(schedule);
    });
    $("#token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();  // The CSP's form-action 'none' forbids a real submission anyway.
      storageSet(TOKEN_KEY, $("#token").value.trim() || null);
      $("#token").value = "";
      refresh().then(schedule);
    });
    $("#forget-token").addEventListener("click", () => {
      storageSet(TOKEN_KEY, null);
      refresh().then(schedule);
    });
    window.addEventListener("resize", () => {
      for (const c of charts.values()) {
        if (c.plot) c.plot.setSize({ width: chartWidth(c.box), height: 180 });
      }
    });
    refresh().then(schedule);
  }

  start();
})();
