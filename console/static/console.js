// The crmgate console: everything it shows comes from the public API of this
// gateway, called with the token the user signed in with.
import { parseCSV, autoMapping, isXLSX, isReportColumn } from "./sheet.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "crmgate.token";
const ENDED = new Set(["completed", "canceled", "failed"]);

const state = {
  token: "",
  claims: null,
  connections: [],
  fields: [],
  header: null, // the chosen CSV file's header, when read
  job: null,
  poll: 0,
  seen: null, // {t, done} of the first look at the running job, for its rate
};

// el builds an element: el("td", {class: "x"}, "text", child…).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function notice(text) { $("notice").textContent = text; }

// decodeClaims reads a JWT's payload; the signature is the gateway's to check.
export function decodeClaims(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("this is not a JWT (three parts separated by dots)");
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

const scopes = () => (state.claims && typeof state.claims.scope === "string" ? state.claims.scope.split(/\s+/).filter(Boolean) : []);
const hasScope = (s) => scopes().includes(s);

// api calls the gateway with the token. It answers {status, body, problem}.
async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + state.token };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "omit", cache: "no-store" });
  } catch (e) {
    return { status: 0, body: null, problem: "the gateway could not be reached: " + e.message };
  }
  let data = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) { try { data = await res.json(); } catch { data = null; } }
  const problem = res.ok ? "" : (data && (data.detail || data.title)) || res.status + " " + res.statusText;
  if (res.status === 401) { signOut("The gateway refused the token: " + problem); }
  return { status: res.status, body: data, problem };
}

// ---- Sign in ----

function signIn(token) {
  token = token.trim().replace(/^Bearer\s+/i, "");
  let claims;
  try { claims = decodeClaims(token); } catch (e) {
    $("signin-error").textContent = "The token cannot be read: " + e.message;
    return;
  }
  if (claims.exp && claims.exp * 1000 < Date.now()) {
    $("signin-error").textContent = "The token expired at " + new Date(claims.exp * 1000).toLocaleString() + ".";
    return;
  }
  state.token = token;
  state.claims = claims;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("signin-error").textContent = "";
  $("token").value = "";
  $("who-sub").textContent = claims.sub || "(no sub)";
  $("who-scopes").textContent = scopes().join(" ") || "(none)";
  $("who-conns").textContent = Array.isArray(claims.connections) ? claims.connections.join(", ") : "(none)";
  $("who").hidden = false;
  $("nav").hidden = false;
  $("view-signin").hidden = true;
  applyScopes();
  loadConnections().then(() => show("import"));
}

function signOut(why) {
  clearInterval(state.poll);
  state.token = "";
  state.claims = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("who").hidden = true;
  $("nav").hidden = true;
  for (const v of ["import", "connections", "history", "deliveries"]) $("view-" + v).hidden = true;
  $("view-signin").hidden = false;
  $("signin-error").textContent = why || "";
  $("token").focus();
}

// applyScopes disables what the token may not do, saying why.
function applyScopes() {
  const write = hasScope("customers:write");
  $("import-fields").disabled = !write;
  const reason = $("import-disabled");
  reason.hidden = write;
  reason.textContent = write ? "" :
    "Import is disabled: starting an import needs the customers:write scope, and this token has " +
    (scopes().length ? scopes().join(", ") : "no scope") + ".";
  if (!write) $("start-import").setAttribute("aria-describedby", "import-disabled");
}

// ---- Views ----

function show(view) {
  for (const b of document.querySelectorAll("#nav button")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  for (const v of ["import", "connections", "history", "deliveries"]) $("view-" + v).hidden = v !== view;
  notice("");
  if (view === "import") loadJobs();
  if (view === "connections") renderConnections();
  if (view === "deliveries") loadDeliveries();
}

async function loadConnections() {
  const r = await api("GET", "/v1/connections");
  state.connections = r.status === 200 ? r.body.connections : [];
  if (r.status !== 200) notice("Connections could not be listed: " + r.problem);
  for (const id of ["imp-conn", "hist-conn"]) {
    const sel = $(id);
    sel.replaceChildren(...state.connections.map((c) => el("option", { value: c.id }, c.id + " (" + c.provider + ")")));
  }
  renderMapping();
}

const connection = (id) => state.connections.find((c) => c.id === id);

function fmtTime(s) {
  if (!s) return "never";
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toLocaleString();
}

async function renderConnections() {
  await loadConnections();
  const box = $("connections");
  box.replaceChildren();
  for (const c of state.connections) {
    const caps = c.capabilities || {};
    const circuit = c.circuit || null;
    const dl = el("dl", {});
    const add = (k, v, cls) => dl.append(el("dt", {}, k), el("dd", { class: cls }, v));
    add("Provider", c.provider);
    add("Capabilities", ["import", "import_pool", "query", "webhooks"].filter((k) => caps[k]).join(", ") || "none");
    add("Modes", (caps.modes || []).join(", ") || "—");
    add("Custom fields", (caps.custom_fields || []).join(", ") || "none");
    const fc = el("dd", { class: "fc-version" }, "…");
    dl.append(el("dt", {}, "Field configuration"), fc);
    if (circuit) {
      add("Circuit", circuit.state, "circuit circuit-" + circuit.state);
      add("Last success", fmtTime(circuit.last_success_at));
      add("Last failure", fmtTime(circuit.last_failure_at));
    } else add("Circuit", "not shown by this gateway");
    box.append(el("article", { class: "card", "data-connection": c.id }, el("h3", {}, c.id), dl));
    api("GET", "/v1/connections/" + encodeURIComponent(c.id) + "/field-config").then((r) => {
      fc.textContent = r.status === 200 ? "version " + r.body.version + ", updated " + fmtTime(r.body.updated_at) : "not available (" + r.problem + ")";
    });
  }
}

// ---- Import ----

async function loadFields() {
  try {
    const r = await fetch("fields.json", { cache: "no-store" });
    state.fields = (await r.json()).fields;
  } catch { state.fields = []; }
}

async function readFile() {
  const file = $("imp-file").files[0];
  state.header = null;
  const box = $("preview");
  box.replaceChildren();
  if (!file) { renderMapping(); return; }
  if (isXLSX(file)) {
    box.append(el("p", {}, "Preview not available for XLSX: the gateway reads the first sheet, and maps its columns automatically."));
    renderMapping();
    return;
  }
  const slice = file.slice(0, 256 * 1024);
  const { rows, delimiter } = parseCSV(await slice.text(), 6, file.size > slice.size);
  if (!rows.length) { box.append(el("p", { class: "error" }, "The file has no header row.")); renderMapping(); return; }
  state.header = rows[0];
  const names = { ",": "comma", ";": "semicolon", "\t": "tab" };
  box.append(el("p", {}, file.name + ": " + rows[0].length + " columns, separated by " + names[delimiter] + "; the first rows:"));
  const table = el("table", { id: "preview-table" },
    el("thead", {}, el("tr", {}, ...rows[0].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.slice(1).map((r) => el("tr", {}, ...rows[0].map((_, i) => el("td", {}, r[i] ?? ""))))));
  box.append(el("div", { class: "scroll" }, table));
  renderMapping();
}

function renderMapping() {
  const box = $("mapping");
  box.replaceChildren();
  const header = state.header;
  if (!header) return;
  const conn = connection($("imp-conn").value);
  const custom = (conn && conn.capabilities && conn.capabilities.custom_fields) || [];
  const auto = autoMapping(header, state.fields, custom);
  const options = [["", "(not imported)"], ...state.fields.map((f) => [f, f]), ...custom.map((c) => ["custom_fields." + c, c + " (custom field)"])];
  const table = el("table", { id: "mapping-table" },
    el("caption", {}, "Columns → fields (chosen automatically where the header names a field; change any)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Column"), el("th", { scope: "col" }, "Field"))));
  const body = el("tbody", {});
  header.forEach((h, i) => {
    if (!h || isReportColumn(h)) return;
    const sel = el("select", { id: "map-" + i, "data-column": h },
      ...options.map(([v, label]) => el("option", { value: v, selected: v === auto[i] }, label)));
    body.append(el("tr", {}, el("th", { scope: "row" }, el("label", { for: "map-" + i }, h)), el("td", {}, sel)));
  });
  table.append(body);
  box.append(table);
}

function currentMapping() {
  const m = {};
  for (const sel of document.querySelectorAll("#mapping select")) m[sel.dataset.column] = sel.value;
  return m;
}

async function startImport(ev) {
  ev.preventDefault();
  const err = $("import-error");
  err.textContent = "";
  if (!hasScope("customers:write")) { err.textContent = $("import-disabled").textContent; return; }
  const file = $("imp-file").files[0];
  if (!file) { err.textContent = "Choose a CSV or XLSX file first."; $("imp-file").focus(); return; }
  const options = { connection: $("imp-conn").value, dry_run: $("imp-dry").checked };
  const region = $("imp-region").value.trim().toUpperCase();
  if (region) options.default_region = region;
  if (state.header) options.mapping = currentMapping();
  const form = new FormData();
  form.append("options", new Blob([JSON.stringify(options)], { type: "application/json" }));
  form.append("file", file, file.name);
  $("start-import").disabled = true;
  const r = await api("POST", "/v1/imports", form);
  $("start-import").disabled = false;
  if (r.status === 404 && /no such path/i.test(r.problem)) {
    err.textContent = "Import jobs are not available on this gateway (" + r.problem + ").";
    return;
  }
  if (r.status !== 202 && r.status !== 200 && r.status !== 201) {
    const details = r.body && Array.isArray(r.body.errors) ? " " + r.body.errors.map((e) => e.message || e.code).join("; ") : "";
    err.textContent = "The import was not started: " + r.problem + details;
    return;
  }
  follow(r.body);
  loadJobs();
}

// follow shows a job and polls it every second until it ends.
function follow(job) {
  clearInterval(state.poll);
  state.seen = null;
  renderJob(job);
  if (ENDED.has(job.status)) return;
  state.poll = setInterval(async () => {
    const r = await api("GET", "/v1/imports/" + encodeURIComponent(job.id));
    if (r.status !== 200) { notice("The job could not be read: " + r.problem); return; }
    renderJob(r.body);
    if (ENDED.has(r.body.status)) { clearInterval(state.poll); loadJobs(); }
  }, 1000);
}

const num = (v) => (typeof v === "number" ? v : 0);

function fmtDuration(s) {
  if (!isFinite(s)) return "—";
  s = Math.round(s);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function renderJob(job) {
  state.job = job;
  $("job").hidden = false;
  $("job-id").textContent = job.id;
  const st = $("job-status");
  st.textContent = job.status;
  st.className = "badge status-" + job.status;
  const total = num(job.total);
  const done = total - num(job.pending);
  const bar = $("job-progress");
  bar.max = Math.max(total, 1);
  bar.value = ENDED.has(job.status) && job.status === "completed" ? bar.max : done;
  const now = Date.now();
  if (!state.seen) state.seen = { t: now, done };
  const started = job.started_at ? Date.parse(job.started_at) : NaN;
  let rate = 0;
  if (!isNaN(started) && now > started) rate = done / ((now - started) / 1000);
  else if (now > state.seen.t) rate = (done - state.seen.done) / ((now - state.seen.t) / 1000);
  if (ENDED.has(job.status) && job.finished_at && !isNaN(started)) {
    const secs = (Date.parse(job.finished_at) - started) / 1000;
    rate = secs > 0 ? done / secs : done;
  }
  let text = done + " of " + total + " rows done";
  if (rate > 0) text += ", " + Math.round(rate) + " rows/s";
  if (!ENDED.has(job.status)) text += ", ETA " + (rate > 0 ? fmtDuration(num(job.pending) / rate) : "—");
  if (job.status === "failed" && job.error) text += ". The job could not run: " + job.error;
  $("job-text").textContent = text + ".";
  const keys = job.dry_run ? ["pending", "valid", "failed"] : ["pending", "succeeded", "failed", "unknown"];
  if (num(job.skipped_rows)) keys.push("skipped_rows");
  $("job-counters").replaceChildren(...keys.flatMap((k) => [el("dt", {}, k.replace("_", " ")), el("dd", { "data-counter": k }, String(num(job[k])))]));
  const errs = Object.entries(job.errors_by_code || {}).sort((a, b) => b[1] - a[1]);
  const most = Math.max(1, ...errs.map(([, n]) => n));
  const chart = $("job-errors");
  chart.replaceChildren();
  if (!errs.length) chart.append(el("p", {}, "No errors."));
  for (const [code, n] of errs) {
    const fill = el("span", { class: "bar-fill" });
    fill.style.width = (100 * n / most).toFixed(1) + "%";
    chart.append(el("div", { class: "bar", "data-code": code, role: "img", "aria-label": code + ": " + n },
      el("span", { class: "bar-label" }, code), el("span", { class: "bar-track" }, fill), el("span", { class: "bar-n" }, String(n))));
  }
  $("job-unmapped").textContent = (job.unmapped_columns || []).length ? "Columns not imported: " + job.unmapped_columns.join(", ") : "";
  $("download-report").hidden = !ENDED.has(job.status);
}

async function downloadReport() {
  const job = state.job;
  if (!job) return;
  const info = $("report-info");
  info.textContent = "Fetching the report…";
  let res;
  try {
    res = await fetch("/v1/imports/" + encodeURIComponent(job.id) + "/report",
      { headers: { Authorization: "Bearer " + state.token }, credentials: "omit", cache: "no-store" });
  } catch (e) { info.textContent = "The report could not be fetched: " + e.message; return; }
  if (!res.ok) { info.textContent = "The report could not be fetched: " + res.status + " " + res.statusText; return; }
  const blob = await res.blob();
  const xlsx = /spreadsheetml/.test(res.headers.get("Content-Type") || "");
  const base = ((job.source && job.source.name) || job.id).replace(/\.(csv|xlsx)$/i, "");
  const name = base + ".report." + (xlsx ? "xlsx" : "csv");
  const a = $("report-link");
  if (a.href && a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.textContent = "Save " + name + " again";
  a.hidden = false;
  a.click();
  let rows = "";
  if (!xlsx) {
    const parsed = parseCSV(await blob.text(), Infinity, false);
    rows = ", " + Math.max(0, parsed.rows.length - 1) + " rows";
  }
  info.textContent = "Report " + name + " (" + blob.size + " bytes" + rows + ") downloaded.";
}

async function loadJobs() {
  if (!state.token) return;
  const r = await api("GET", "/v1/imports?limit=20");
  const body = $("jobs").tBodies[0];
  body.replaceChildren();
  if (r.status === 404) { $("jobs-msg").textContent = "Import jobs are not available on this gateway yet."; return; }
  if (r.status !== 200) { $("jobs-msg").textContent = "Jobs could not be listed: " + r.problem; return; }
  const jobs = r.body.imports || r.body.jobs || r.body.items || [];
  $("jobs-msg").textContent = jobs.length ? "" : "No jobs yet.";
  const write = hasScope("customers:write");
  for (const j of jobs) {
    const actions = el("td", {});
    actions.append(el("button", { type: "button", onclick: () => follow(j) }, "Show"));
    if (!ENDED.has(j.status)) {
      actions.append(el("button", { type: "button", disabled: !write, onclick: () => jobAction(j, "cancel") }, "Cancel"));
    } else {
      actions.append(el("button", { type: "button", disabled: !write, onclick: () => jobAction(j, "retry") }, "Retry"));
    }
    body.append(el("tr", { "data-job": j.id },
      el("td", {}, j.id), el("td", {}, j.connection || ""), el("td", {}, el("span", { class: "badge status-" + j.status }, j.status)),
      el("td", {}, String(num(j.total))), el("td", {}, fmtTime(j.created_at)), actions));
  }
}

async function jobAction(job, action) {
  const r = await api("POST", "/v1/imports/" + encodeURIComponent(job.id) + "/" + action);
  if (r.status >= 300) { notice(action === "cancel" ? "The job was not canceled: " + r.problem : "The job was not retried: " + r.problem); return; }
  notice(action === "cancel" ? "Job " + job.id + " is being canceled." : "Retry started as job " + ((r.body && r.body.id) || "") + ".");
  if (r.body && r.body.id) follow(r.body);
  loadJobs();
}

// ---- Customer history ----

let historyCursor = "";

async function showHistory(ev, more) {
  if (ev) ev.preventDefault();
  const msg = $("hist-msg");
  const list = $("history");
  if (!more) { list.replaceChildren(); historyCursor = ""; }
  const q = new URLSearchParams({ connection: $("hist-conn").value, whatsapp: $("hist-whatsapp").value.trim() });
  if (historyCursor) q.set("cursor", historyCursor);
  msg.textContent = "Loading…";
  const r = await api("GET", "/v1/customers/history?" + q);
  $("hist-more").hidden = true;
  if (r.status === 404) {
    msg.textContent = /no such path/i.test(r.problem) ? "Customer history is not available on this gateway yet." : "Not found: " + r.problem;
    return;
  }
  if (r.status !== 200) { msg.textContent = "The history could not be read: " + r.problem; return; }
  const items = r.body.history || [];
  msg.textContent = items.length || more ? "" : "Nothing imported for this customer in the retention window.";
  for (const h of items) {
    const errs = (h.errors || []).map((e) => e.code + (e.field ? " (" + e.field + ")" : "") + (e.message ? ": " + e.message : "")).join("; ");
    list.append(el("li", {},
      el("time", { datetime: h.at }, fmtTime(h.at)), " ",
      el("span", { class: "badge status-" + h.status }, h.status), " ",
      h.job_id ? "job " + h.job_id : "request " + (h.request_id || ""),
      h.index !== undefined ? ", row index " + h.index : "",
      h.provider_id ? ", provider id " + h.provider_id : "",
      errs ? el("div", { class: "error" }, errs) : ""));
  }
  historyCursor = r.body.next_cursor || "";
  $("hist-more").hidden = !historyCursor || !items.length;
}

// ---- Deliveries ----

async function loadDeliveries() {
  const msg = $("del-msg");
  msg.textContent = "";
  const subsBox = $("subscriptions");
  subsBox.replaceChildren();
  if (hasScope("admin")) {
    const r = await api("GET", "/v1/subscriptions");
    if (r.status !== 200) subsBox.append(el("p", { class: "error" }, "Subscriptions could not be listed: " + r.problem));
    else if (!r.body.subscriptions.length) subsBox.append(el("p", {}, "No subscriptions."));
    else for (const s of r.body.subscriptions) subsBox.append(await subscriptionCard(s));
  } else subsBox.append(el("p", {}, "Subscriptions need the admin scope."));

  const tbody = $("events").tBodies[0];
  tbody.replaceChildren();
  if (!hasScope("events:read")) { tbody.append(el("tr", {}, el("td", { colspan: 5 }, "Events need the events:read scope."))); return; }
  // Recent events: page to the end (a bounded number of pages), newest first.
  let after = "", events = [];
  for (let i = 0; i < 20; i++) {
    const q = new URLSearchParams({ limit: "500" });
    if (after) q.set("after", after);
    const r = await api("GET", "/v1/events?" + q);
    if (r.status !== 200) { msg.textContent = "Events could not be listed: " + r.problem; break; }
    events = events.concat(r.body.events).slice(-50);
    if (!r.body.events.length || r.body.next_cursor === after) break;
    after = r.body.next_cursor;
  }
  events.reverse();
  if (!events.length) tbody.append(el("tr", {}, el("td", { colspan: 5 }, "No events yet.")));
  for (const e of events) {
    const change = e.change ? e.change.field + ": " + JSON.stringify(e.change.from) + " → " + JSON.stringify(e.change.to)
      : e.followup ? "follow-up: " + e.followup.text : e.job ? "job " + e.job.id + " " + e.job.status : "";
    tbody.append(el("tr", { "data-event": e.id }, el("td", {}, fmtTime(e.received_at)), el("td", {}, e.type), el("td", {}, e.connection || ""),
      el("td", {}, (e.customer && e.customer.whatsapp) || ""), el("td", {}, change)));
  }
}

async function subscriptionCard(s) {
  const card = el("article", { class: "card", "data-subscription": s.id },
    el("h4", {}, s.url),
    el("p", {}, "Subscription " + s.id + "; types " + ((s.types || []).join(", ") || "all") + "; connections " + ((s.connections || []).join(", ") || "all")));
  const r = await api("GET", "/v1/subscriptions/" + encodeURIComponent(s.id) + "/failures");
  if (r.status !== 200) { card.append(el("p", { class: "error" }, "Failures could not be listed: " + r.problem)); return card; }
  const fails = r.body.failures || [];
  if (!fails.length) { card.append(el("p", { class: "ok" }, "No failed deliveries.")); return card; }
  const tbody = el("tbody", {});
  for (const f of fails) {
    const status = el("td", {}, "");
    const btn = el("button", { type: "button", class: "redeliver", "data-event": f.event.id }, "Redeliver");
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      const rr = await api("POST", "/v1/subscriptions/" + encodeURIComponent(s.id) + "/failures/" + encodeURIComponent(f.event.id) + "/redeliver");
      if (rr.status >= 300) { status.textContent = "not redelivered: " + rr.problem; btn.disabled = false; return; }
      status.textContent = "redelivery queued";
    });
    tbody.append(el("tr", { "data-event": f.event.id },
      el("td", {}, f.event.type + " " + f.event.id), el("td", {}, String(f.attempts)),
      el("td", {}, (f.last_status ? f.last_status + " " : "") + (f.last_error || "")), el("td", {}, fmtTime(f.failed_at)),
      el("td", {}, btn), status));
  }
  card.append(el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...["Event", "Attempts", "Last error", "Failed", "Action", "Result"].map((h) => el("th", { scope: "col" }, h)))), tbody)));
  return card;
}

// ---- Start ----

async function offerDevToken() {
  try {
    const r = await fetch("dev-token", { cache: "no-store", credentials: "omit" });
    if (!r.ok) return;
    const { token } = await r.json();
    const b = $("dev-token");
    b.hidden = false;
    b.addEventListener("click", () => signIn(token));
  } catch { /* not in sandbox mode */ }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("signin-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value); });
  $("sign-out").addEventListener("click", () => signOut(""));
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => show(b.dataset.view));
  $("imp-file").addEventListener("change", readFile);
  $("imp-conn").addEventListener("change", renderMapping);
  $("import-form").addEventListener("submit", startImport);
  $("download-report").addEventListener("click", downloadReport);
  $("jobs-refresh").addEventListener("click", loadJobs);
  $("conn-refresh").addEventListener("click", renderConnections);
  $("history-form").addEventListener("submit", (e) => showHistory(e, false));
  $("hist-more").addEventListener("click", () => showHistory(null, true));
  $("del-refresh").addEventListener("click", loadDeliveries);
  await loadFields();
  offerDevToken();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  document.body.dataset.ready = "true";
});
