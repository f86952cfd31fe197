// The neux sandbox inspector: reads the control API every half second and drives it on click.
// Everything shown comes from the sandbox as text and is set with textContent: nothing a
// caller sent can become markup. The page never holds an app secret, and holds a code only
// between minting it and its first presentation. In remote mode it holds the sandbox's control
// token (see takeControlToken).
"use strict";

const TOKEN_PATH = "/neuopenapi/oauth/mini/accessToken";
const USER_INFO_PATH = "/neuopenapi/oauth/mini/user/info";
const SIGNED_PREFIX = "/neuopenapi/sandbox/";
const MASK = "[REDACTED]";
const POLL_MS = 500;
const ROWS_SHOWN = 300;
// A request still unanswered this long after the page saw it is not asked for again (its
// client hung up).
const PENDING_MS = 30000;

const state = {
  entries: new Map(), // seq -> log entry
  firstSeen: new Map(), // seq -> when this page first saw it unanswered
  statuses: new Map(), // status -> {meaning, hint}
  selected: null,
  detail: null,
  minted: null, // {code, fingerprint, app} until the code is presented
  lastOk: 0,
  dirty: true,
};

const $ = (id) => document.getElementById(id);

// In remote mode the control API wants the sandbox's control token. `neux sandbox` prints the
// inspector's URL with the token in its fragment, which a browser never sends to a server: the
// page keeps it for this tab only (sessionStorage, so a reload still works) and takes it out of
// the address bar and the history. A page of another site cannot read either.
const TOKEN_KEY = "neux-sandbox-control-token";
let controlToken = takeControlToken();
// A URL with the token pasted into a tab already open on the page changes only its fragment:
// the page is not loaded again, so it takes the token here.
window.addEventListener("hashchange", () => {
  controlToken = takeControlToken();
});

function takeControlToken() {
  const m = /^#token=(.+)$/.exec(location.hash);
  if (m) {
    history.replaceState(null, "", location.pathname + location.search);
    let token = m[1];
    try {
      token = decodeURIComponent(token);
    } catch (_) {
      // Kept as written: the sandbox says whether it is the right one.
    }
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (_) {
      // Storage disabled: the token lasts until the page is reloaded.
    }
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch (_) {
    return null;
  }
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// The control API's envelope: {responseHeader: {status, msg}, response}.
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (controlToken) init.headers["Authorization"] = `Bearer ${controlToken}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let env;
  try {
    env = await res.json();
  } catch (_) {
    throw new Error(`${method} ${path}: HTTP ${res.status}, not JSON`);
  }
  const head = env.responseHeader || {};
  if (head.status !== 200) {
    throw new Error(`${head.status}: ${head.msg || "refused"}`);
  }
  return env.response;
}

function showError(err) {
  const p = $("action-error");
  if (!err) {
    p.hidden = true;
    return;
  }
  p.textContent = String(err.message || err);
  p.hidden = false;
}

function clock(ms) {
  const d = new Date(ms);
  const pad = (n, w) => String(n).padStart(w, "0");
  return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}

function pathKind(path) {
  if (path === TOKEN_PATH) return "token";
  if (path === USER_INFO_PATH) return "user";
  if (path.startsWith(SIGNED_PREFIX)) return "signed";
  return "other";
}

function pathName(path) {
  switch (pathKind(path)) {
    case "token": return "token exchange";
    case "user": return "user info";
    case "signed": return "signed call " + path.slice(SIGNED_PREFIX.length - 1);
    default: return path;
  }
}

function describeFault(f) {
  switch (f.kind) {
    case "status": return `HTTP ${f.status} page`;
    case "delay": return `delay ${f.ms} ms`;
    case "drop": return "dropped connection";
    case "truncate": return "body cut in half";
    case "nonJson": return "answer not JSON";
    case "clockSkew": return "2001 clock skew";
    default: return f.kind;
  }
}

// The answer's badge: the envelope status when there is one, else the HTTP status.
function answerBadge(e) {
  if (e.httpStatus === null || e.httpStatus === undefined) {
    const stale = Date.now() - (state.firstSeen.get(e.seq) || Date.now()) > PENDING_MS;
    return el("span", { class: "badge plain", text: stale ? "no answer" : "…" });
  }
  if (e.apiStatus !== null && e.apiStatus !== undefined) {
    const ok = e.apiStatus === 200;
    return el("span", { class: "badge " + (ok ? "ok" : "bad"), text: ok ? "200 OK" : String(e.apiStatus) });
  }
  return el("span", { class: "badge warn", text: `HTTP ${e.httpStatus}` });
}

function meaningOf(e) {
  if (e.apiStatus === null || e.apiStatus === undefined || e.apiStatus === 200) return null;
  return state.statuses.get(e.apiStatus) || null;
}

function matches(e) {
  const path = $("filter-path").value;
  if (path && pathKind(e.path) !== path) return false;
  const status = $("filter-status").value;
  if (status === "ok") return e.apiStatus === 200;
  if (status === "failed") return e.httpStatus !== null && e.apiStatus !== 200;
  if (status) return String(e.apiStatus) === status;
  return true;
}

function renderLog() {
  const all = [...state.entries.values()].sort((a, b) => b.seq - a.seq);
  const shown = all.filter(matches);
  const rows = shown.slice(0, ROWS_SHOWN).map((e) => {
    const info = meaningOf(e);
    const answer = el("td", {}, answerBadge(e));
    if (e.httpStatus !== null && e.apiStatus !== null && e.apiStatus !== 200 && e.httpStatus !== 200) {
      answer.append(" ", el("span", { class: "badge plain", text: `HTTP ${e.httpStatus}` }));
    }
    if (info) answer.append(el("span", { class: "sub", text: info.hint ? `${info.meaning}: ${info.hint}` : info.meaning }));
    if (e.fault) answer.append(el("span", { class: "sub", text: "fault: " + describeFault(e.fault) }));
    const who = e.codeFingerprint ? "code " + e.codeFingerprint : e.tokenFingerprint ? "token " + e.tokenFingerprint : "";
    const tr = el("tr", {
      tabindex: 0,
      "data-seq": e.seq,
      class: state.selected === e.seq ? "selected" : null,
      onclick: () => select(e.seq),
      onkeydown: (ev) => { if (ev.key === "Enter") select(e.seq); },
    },
      el("td", { class: "seq", text: "#" + e.seq }),
      el("td", { class: "time", text: clock(e.atMs) }),
      el("td", { class: "name" }, el("span", { class: "method", text: e.method }), pathName(e.path),
        e.dialect ? el("span", { class: "sub", text: e.dialect === "json" ? "JSON (clientId)" : "form (appid)" }) : null),
      el("td", { class: "mono", text: e.clientId || "" }),
      el("td", { class: "mono", text: who }),
      answer,
    );
    return tr;
  });
  $("log-rows").replaceChildren(...rows);
  $("log-empty").hidden = all.length > 0;
  let more = "";
  if (shown.length > ROWS_SHOWN) more = `The newest ${ROWS_SHOWN} of ${shown.length} requests shown.`;
  else if (shown.length < all.length) more = `${shown.length} of ${all.length} requests match the filters.`;
  $("log-more").textContent = more;
}

async function select(seq) {
  state.selected = seq;
  state.dirty = true;
  renderLog();
  await loadDetail();
}

async function loadDetail() {
  if (state.selected === null) return;
  try {
    state.detail = await api("GET", `/sandbox/v1/requests/${state.selected}`);
    renderDetail();
  } catch (err) {
    state.detail = null;
    $("detail").hidden = false;
    $("detail-title").textContent = `Request #${state.selected}`;
    $("detail-body").replaceChildren(el("p", { class: "muted", text: String(err.message || err) }));
  }
}

function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(el("dt", { text: k }), el("dd", {}, v));
  }
  return dl;
}

function renderDetail() {
  const d = state.detail;
  if (!d) return;
  const e = d.request;
  $("detail").hidden = false;
  $("detail-title").textContent = `#${e.seq} ${pathName(e.path)}`;
  const body = [];
  const answered = e.httpStatus === null ? "no answer yet" : e.apiStatus === null ? `HTTP ${e.httpStatus}` : `${e.apiStatus} (HTTP ${e.httpStatus})`;
  body.push(kv([
    ["arrived", clock(e.atMs)],
    ["request", `${e.method} ${e.path}`],
    ["dialect", e.dialect],
    ["app", e.clientId],
    ["code", e.codeFingerprint ? "fingerprint " + e.codeFingerprint : null],
    ["token", e.tokenFingerprint ? "fingerprint " + e.tokenFingerprint : null],
    ["answer", answered + (d.meaning ? `: ${d.meaning}` : "")],
    ["fault", e.fault ? describeFault(e.fault) : null],
  ]));
  // A refused signature's message is the canonical string, shown below.
  if (d.message && e.apiStatus !== 200 && !d.signature) body.push(el("div", { class: "box bad mono", text: d.message }));
  if (d.hint) body.push(el("div", { class: "box warn", text: "Check: " + d.hint }));
  if (d.signature) body.push(...signatureBox(d.signature));
  if (d.code) body.push(codeBox(e, d.code));
  if (d.params) {
    body.push(el("h3", { text: "Parameters, as received" }));
    const rows = d.params.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: v })));
    body.push(el("table", { class: "params" }, el("tbody", {}, ...rows)));
    if (d.paramsTotal > d.params.length) body.push(el("p", { class: "muted", text: `The first ${d.params.length} of ${d.paramsTotal} parameters.` }));
    body.push(el("p", { class: "muted", text: "Codes are shown as fingerprints; secrets, tokens, passwords and card numbers are masked." }));
  } else if (pathKind(e.path) === "token" || pathKind(e.path) === "signed") {
    body.push(el("p", { class: "muted", text: "Its parameters are no longer kept (the latest 500 requests keep theirs)." }));
  }
  $("detail-body").replaceChildren(...body);
}

function codeBox(e, code) {
  if (code.earlierCount === 0) {
    return el("div", { class: "box ok", text: `First presentation of code ${e.codeFingerprint}` + (code.laterCount ? `; presented ${code.laterCount} more time(s) after this one.` : ".") });
  }
  const when = code.earlier.map((p) => `#${p.seq} at ${clock(p.atMs)}`).join(", ");
  return el("div", { class: "box bad" },
    el("b", { text: `Code ${e.codeFingerprint} was seen before: ` }),
    `${code.earlierCount} earlier presentation(s) (${when}${code.earlierCount > code.earlier.length ? ", …" : ""}). A code reaches the platform once: this client sent it again.`);
}

function signatureBox(sig) {
  const out = [];
  out.push(el("h3", { text: "What the sandbox signed" }));
  out.push(el("pre", { id: "canonical", text: sig.canonical + (sig.canonicalCut ? " …(cut)" : "") }));
  out.push(kv([
    ["expected", el("span", { class: "mono", text: sig.expected + "…" })],
    ["received", el("span", { class: "mono", text: sig.received + "…" })],
  ]));
  out.push(el("p", { class: "muted", text: `SHA-256 of this string, with ${MASK} replaced by the app secret (and the code, for a token call). Paste what your side signed (neux sign --explain prints it) to find the first byte that differs:` }));
  const input = el("textarea", { id: "explain-input", placeholder: "canonical string, secret masked", spellcheck: "false" });
  const result = el("div", { id: "explain-result" });
  const button = el("button", { type: "button", id: "explain-compare", text: "Compare" });
  button.addEventListener("click", () => {
    // Compared in the page: what is pasted (it may hold a code) never leaves the browser.
    result.replaceChildren(...compareCanonical(sig.canonical, input.value.trim()));
    input.value = "";
  });
  out.push(input, el("div", { class: "row" }, button), result);
  return out;
}

// Compares the sandbox's masked canonical string with a pasted one. Each MASK in the sandbox's
// string stands for a value the page may not see (the secret, the code): the pasted string may
// hold the same MASK or the value itself there. What the pasted string holds in those places
// is masked in what the page shows of it.
function compareCanonical(ours, theirs) {
  if (!theirs) return [el("p", { class: "muted", text: "Paste a canonical string first." })];
  const hidden = []; // [start, end) of the pasted string's values under a MASK
  let i = 0;
  let j = 0;
  while (i < ours.length) {
    if (ours.startsWith(MASK, i)) {
      i += MASK.length;
      if (theirs.startsWith(MASK, j)) {
        j += MASK.length;
        continue;
      }
      // The value runs to where the next key begins in the sandbox's string.
      const rest = ours.slice(i);
      const eq = rest.indexOf("=");
      const next = eq < 0 ? rest : rest.slice(0, eq + 1);
      const at = next ? theirs.indexOf(next, j) : theirs.length;
      if (at < 0) return difference(ours, i - MASK.length, theirs, j, hidden);
      hidden.push([j, at]);
      j = at;
      continue;
    }
    if (j >= theirs.length || ours[i] !== theirs[j]) return difference(ours, i, theirs, j, hidden);
    i += 1;
    j += 1;
  }
  if (j < theirs.length) return difference(ours, i, theirs, j, hidden);
  return [el("div", { class: "box ok" },
    el("b", { text: "The strings match" }),
    " (apart from the masked values). The parameters were signed alike, so the secret differs: check the app secret this client signs with against the sandbox's app.")];
}

function bytesBefore(text, index) {
  return new TextEncoder().encode(text.slice(0, index)).length;
}

// `text` with the `hidden` ranges replaced by MASK, and where index `at` lands in it.
function masked(text, at, hidden) {
  let out = "";
  let from = 0;
  let moved = at;
  for (const [start, end] of hidden) {
    out += text.slice(from, start) + MASK;
    if (end <= at) moved += MASK.length - (end - start);
    from = end;
  }
  return [out + text.slice(from), moved];
}

function excerpt(text, at) {
  const start = Math.max(0, at - 24);
  return el("pre", {},
    (start > 0 ? "…" : "") + text.slice(start, at),
    el("mark", { text: text.slice(at, at + 1) || "(end)" }),
    text.slice(at + 1, at + 24) + (at + 24 < text.length ? "…" : ""));
}

function difference(ours, i, theirs, j, hidden) {
  const [shown, at] = masked(theirs, j, hidden);
  return [
    el("div", { class: "box bad" }, el("b", { text: `First difference at byte ${bytesBefore(theirs, j)} of yours` }), ` (byte ${bytesBefore(ours, i)} of the sandbox's).`),
    el("p", { class: "muted", text: "The sandbox signed:" }),
    excerpt(ours, i),
    el("p", { class: "muted", text: "Yours (masked where the sandbox masks):" }),
    excerpt(shown, at),
  ];
}

function renderStats(s) {
  $("stat-requests").textContent = s.loggedRequests;
  $("stat-live").textContent = s.liveCodes;
  $("stat-minted").textContent = s.mintedCodes;
  $("stat-faults").textContent = s.armedFaults;
  $("stat-profiles").textContent = s.profiles;
  const select = $("mint-app");
  const have = [...select.options].map((o) => o.value).join("\n");
  if (have !== s.apps.join("\n")) {
    const chosen = select.value;
    select.replaceChildren(...s.apps.map((id) => el("option", { value: id, text: id })));
    if (s.apps.includes(chosen)) select.value = chosen;
  }
}

function renderFaults(rules) {
  const items = rules.map((r) => el("li", {},
    el("b", { text: pathName(r.path) }), ": ", describeFault(r.fault),
    el("span", { class: "muted", text: ` × ${r.count}, ${r.when === "after" ? "after handling" : "instead of handling"}` })));
  $("fault-list").replaceChildren(...items);
  $("faults-empty").hidden = rules.length > 0;
}

function renderMinted() {
  const box = $("minted");
  const m = state.minted;
  if (!m) return;
  box.hidden = false;
  if (m.presentedIn) {
    box.replaceChildren(el("p", {}, `Code ${m.fingerprint} was presented in request #${m.presentedIn}: it is no longer shown.`));
    return;
  }
  const copy = el("button", { type: "button", class: "quiet", id: "copy-code", text: "Copy" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(m.code);
      copy.textContent = "Copied";
    } catch (_) {
      copy.textContent = "Select and copy";
    }
  });
  box.replaceChildren(
    el("div", { class: "row" }, el("code", { id: "minted-code", class: "code", text: m.code }), copy),
    el("p", { class: "muted", text: `For ${m.app}, valid ${Math.round(m.expiresIn / 60)} min, once. Shown until a client presents it, then only its fingerprint (${m.fingerprint}).` }),
    el("p", { class: "muted" }, "Then: ", el("code", { text: `neux login --base-url ${location.origin} --client-id ${m.app} --code <code>` })),
  );
}

async function poll() {
  try {
    const s = await api("GET", "/sandbox/v1/stats");
    // A sandbox restarted on this port numbers from 1 again.
    const newest = Math.max(0, ...state.entries.keys());
    if (s.lastSeq < newest) state.entries.clear();
    for (const seq of [...state.entries.keys()]) {
      if (seq < s.oldestSeq) {
        state.entries.delete(seq);
        state.firstSeen.delete(seq);
        state.dirty = true;
      }
    }
    const now = Date.now();
    let after = Math.max(0, ...state.entries.keys());
    for (const e of state.entries.values()) {
      if (e.httpStatus === null && now - (state.firstSeen.get(e.seq) || now) < PENDING_MS) after = Math.min(after, e.seq - 1);
    }
    const [fresh, faults] = await Promise.all([
      s.lastSeq > after ? api("GET", `/sandbox/v1/requests?after=${after}&limit=2000`) : Promise.resolve([]),
      api("GET", "/sandbox/v1/faults"),
    ]);
    for (const e of fresh) {
      const old = state.entries.get(e.seq);
      const changed = !old || JSON.stringify(old) !== JSON.stringify(e);
      if (changed) state.dirty = true;
      state.entries.set(e.seq, e);
      if (e.httpStatus === null && !state.firstSeen.has(e.seq)) state.firstSeen.set(e.seq, now);
      if (state.minted && !state.minted.presentedIn && e.codeFingerprint === state.minted.fingerprint) {
        // Presented: the page lets go of the code.
        state.minted = { fingerprint: state.minted.fingerprint, presentedIn: e.seq };
        renderMinted();
      }
      if (e.seq === state.selected && changed) loadDetail();
    }
    renderStats(s);
    renderFaults(faults);
    if (state.dirty) {
      state.dirty = false;
      renderLog();
    }
    state.lastOk = Date.now();
    $("live").textContent = "live";
    $("live").className = "live on";
  } catch (err) {
    $("live").textContent = "sandbox unreachable: " + String(err.message || err);
    $("live").className = "live off";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function mint(ev) {
  ev.preventDefault();
  const scope = [...document.querySelectorAll("input[name=scope]:checked")].map((c) => c.value).join(",");
  const user = {};
  const put = (key, id) => { const v = $(id).value.trim(); if (v) user[key] = v; };
  put("id", "mint-user");
  put("nickName", "mint-nick");
  put("email", "mint-email");
  put("phone", "mint-phone");
  if (!$("mint-authorized").checked) user.authorized = false;
  const app = $("mint-app").value;
  try {
    const r = await api("POST", "/sandbox/v1/codes", { clientId: app, scope: scope || undefined, user });
    state.minted = { code: r.code, fingerprint: r.codeFingerprint, app, expiresIn: r.expiresIn };
    renderMinted();
    showError(null);
  } catch (err) {
    showError(err);
  }
}

async function armFault(ev) {
  ev.preventDefault();
  const kind = $("fault-kind").value;
  const fault = { kind };
  if (kind === "status") fault.status = Number($("fault-status").value);
  if (kind === "delay") fault.ms = Number($("fault-ms").value);
  try {
    await api("POST", "/sandbox/v1/faults", {
      path: $("fault-path").value,
      count: Number($("fault-count").value),
      fault,
      when: $("fault-when").value,
    });
    renderFaults(await api("GET", "/sandbox/v1/faults"));
    showError(null);
  } catch (err) {
    showError(err);
  }
}

function faultKindChanged() {
  const kind = $("fault-kind").value;
  $("fault-status-label").hidden = kind !== "status";
  $("fault-ms-label").hidden = kind !== "delay";
}

async function action(method, path, after) {
  try {
    await api(method, path);
    showError(null);
    if (after) after();
  } catch (err) {
    showError(err);
  }
}

async function start() {
  $("base-url").textContent = location.origin;
  try {
    for (const row of await api("GET", "/sandbox/v1/statuses")) {
      state.statuses.set(row.status, row);
      if (row.status !== 200) {
        $("filter-status").append(el("option", { value: row.status, text: `${row.status} ${row.meaning}` }));
      }
    }
  } catch (err) {
    showError(err);
  }
  $("filter-path").addEventListener("change", renderLog);
  $("filter-status").addEventListener("change", renderLog);
  $("clear-log").addEventListener("click", () => action("DELETE", "/sandbox/v1/requests", () => {
    state.entries.clear();
    state.selected = null;
    $("detail").hidden = true;
    renderLog();
  }));
  $("clear-faults").addEventListener("click", () => action("DELETE", "/sandbox/v1/faults", () => renderFaults([])));
  $("detail-close").addEventListener("click", () => {
    state.selected = null;
    $("detail").hidden = true;
    renderLog();
  });
  $("mint-form").addEventListener("submit", mint);
  $("fault-form").addEventListener("submit", armFault);
  $("fault-kind").addEventListener("change", faultKindChanged);
  faultKindChanged();
  poll();
}

document.addEventListener("DOMContentLoaded", start);
