// forewarn's web page. Story text is untrusted: every string from the story or the server
// goes into the page as text (textContent / createTextNode), never as markup. No
// innerHTML anywhere. Requests go to this server only.
"use strict";

(() => {
  const SEVERITIES = ["mentioned", "depicted", "graphic"];
  const SEVERITY_CHOICES = [
    ["mentioned", "any mention"],
    ["depicted", "depicted or graphic"],
    ["graphic", "graphic only"],
  ];
  const STORAGE_KEY = "forewarn.profile.v1";
  const MAX_EVIDENCE = 3;

  const $ = (id) => document.getElementById(id);
  const state = {
    taxonomy: null,
    scan: null,
    verdict: null,
    evidenceShown: false,
    copyUrl: null,
    busy: false,
  };

  // --- small DOM helpers (text only) -------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function rank(severity) {
    const i = SEVERITIES.indexOf(severity);
    return i < 0 ? -1 : i;
  }

  function normalize(text) {
    return String(text).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  }

  function safeId(text) {
    return String(text).replace(/[^a-z0-9-]/gi, "-");
  }

  // --- the trigger list -----------------------------------------------------------------

  function buildTriggerList(taxonomy) {
    const list = $("trigger-list");
    clear(list);
    let order = 0;
    for (const group of taxonomy.groups) {
      const members = taxonomy.warnings.filter((w) => w.group === group.id);
      if (!members.length) continue;
      const items = el("ul", { class: "triggers" });
      for (const w of members) {
        const item = triggerItem(w);
        item.dataset.order = String(order++);
        items.append(item);
      }
      const fieldset = el("fieldset", { class: "group", "data-group": group.id },
        el("legend", { text: group.name }), items);
      fieldset.dataset.order = String(order++);
      list.append(fieldset);
    }
    updateCount();
  }

  function triggerItem(w) {
    const id = safeId(w.id);
    const box = el("input", { type: "checkbox", id: `t-${id}`, value: w.id,
      "aria-describedby": `d-${id}` });
    const select = el("select", { id: `s-${id}`, disabled: true,
      "aria-label": `${w.name}: counts from` });
    for (const [value, label] of SEVERITY_CHOICES) {
      select.append(el("option", { value, text: label }));
    }
    box.addEventListener("change", () => {
      select.disabled = !box.checked;
      profileChanged();
    });
    select.addEventListener("change", profileChanged);
    const aliases = w.aliases.slice(0, 4).join(", ");
    const item = el("li", { class: "trigger", "data-id": w.id },
      box,
      el("label", { for: `t-${id}`, class: "trigger-name" }, w.name),
      select,
      el("span", { id: `d-${id}`, class: "trigger-desc" },
        w.description, aliases ? ` Also: ${aliases}.` : ""),
      el("span", { class: "match-note", "aria-hidden": "true" }));
    item.dataset.search = JSON.stringify({
      name: normalize(w.name), id: normalize(w.id),
      aliases: w.aliases.map(normalize),
    });
    return item;
  }

  function matches(item, query) {
    if (!query) return { ok: true, via: null };
    const data = JSON.parse(item.dataset.search);
    if (data.name.includes(query) || data.id.includes(query)) return { ok: true, via: null };
    const exact = data.aliases.find((a) => a === query || a.startsWith(query));
    if (exact) return { ok: true, via: exact };
    if (query.length >= 3) {
      const part = data.aliases.find((a) => a.includes(query));
      if (part) return { ok: true, via: part };
    }
    return { ok: false, via: null };
  }

  // an exact name, id or alias ("mc" is Miscarriage's alias) comes before prefix matches
  // ("mcd" for Death), its group first too; with no query the original order returns
  function exactly(item, query) {
    const data = JSON.parse(item.dataset.search);
    return query !== "" && (data.name === query || data.id === query ||
      data.aliases.includes(query));
  }

  function byRank(query) {
    return (a, b) => (exactly(b, query) - exactly(a, query)) ||
      (Number(a.dataset.order) - Number(b.dataset.order));
  }

  function filterTriggers() {
    const query = normalize($("trigger-search").value);
    const groups = [...document.querySelectorAll("#trigger-list fieldset")];
    for (const group of groups) {
      let visible = 0;
      const items = [...group.querySelectorAll("li.trigger")];
      for (const item of items) {
        const found = matches(item, query);
        item.hidden = !found.ok;
        item.querySelector(".match-note").textContent = found.via ? `matches “${found.via}”` : "";
        if (found.ok) visible += 1;
      }
      group.hidden = visible === 0;
      const ul = group.querySelector("ul");
      for (const item of items.sort(byRank(query))) ul.append(item);
      group.dataset.exact = items.some((item) => exactly(item, query)) ? "1" : "0";
    }
    const list = $("trigger-list");
    groups.sort((a, b) => (Number(b.dataset.exact) - Number(a.dataset.exact)) ||
      (Number(a.dataset.order) - Number(b.dataset.order)));
    for (const group of groups) list.append(group);
    updateCount();
  }

  function updateCount() {
    const all = document.querySelectorAll("#trigger-list li.trigger");
    const shown = [...all].filter((li) => !li.hidden).length;
    const query = $("trigger-search").value.trim();
    $("trigger-count").textContent = query
      ? (shown ? `${shown} of ${all.length} warnings match.` : "No warning matches.")
      : "";
  }

  function chosen() {
    const out = [];
    for (const box of document.querySelectorAll("#trigger-list input[type=checkbox]")) {
      if (!box.checked) continue;
      const select = $(`s-${safeId(box.value)}`);
      out.push({ id: box.value, severity: select ? select.value : "mentioned" });
    }
    return out;
  }

  function currentProfile() {
    const entries = chosen();
    if (!entries.length) return null;
    const avoid = {};
    for (const e of entries) avoid[e.id] = e.severity;
    return { avoid };
  }

  function nameOf(id) {
    const w = state.taxonomy && state.taxonomy.warnings.find((x) => x.id === id);
    return w ? w.name : id;
  }

  function profileChanged() {
    const entries = chosen();
    $("chosen-summary").textContent = entries.length
      ? `Your list: ${entries.map((e) => `${nameOf(e.id)} (${e.severity === "mentioned"
        ? "any mention" : e.severity === "depicted" ? "depicted or graphic" : "graphic only"})`
      ).join("; ")}.`
      : "Your list is empty.";
    if ($("remember").checked) save();
  }

  // --- saving in this browser only ------------------------------------------------------

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function save() {
    const store = storage();
    if (!store) return;
    try {
      store.setItem(STORAGE_KEY, JSON.stringify(currentProfile() || { avoid: {} }));
    } catch (e) {
      // storage full or refused: nothing to do
    }
  }

  function restore() {
    const store = storage();
    let saved = null;
    try {
      saved = store ? JSON.parse(store.getItem(STORAGE_KEY) || "null") : null;
    } catch (e) {
      saved = null;
    }
    if (!saved || typeof saved !== "object" || !saved.avoid || typeof saved.avoid !== "object") {
      profileChanged();
      return;
    }
    $("remember").checked = true;
    for (const [id, severity] of Object.entries(saved.avoid)) {
      const box = $(`t-${safeId(id)}`);
      const select = $(`s-${safeId(id)}`);
      if (!box || !select) continue;
      box.checked = true;
      select.disabled = false;
      if (SEVERITIES.includes(severity)) select.value = severity;
    }
    profileChanged();
  }

  function forget() {
    const store = storage();
    if (store) {
      try {
        store.removeItem(STORAGE_KEY);
      } catch (e) {
        // ignore
      }
    }
    $("remember").checked = false;
    $("chosen-summary").textContent = "Your saved list was removed from this browser.";
  }

  // --- talking to the server ------------------------------------------------------------

  function story() {
    const file = $("story-file").files[0];
    if (file) return { file };
    const text = $("story-text").value;
    return text.trim() ? { text } : null;
  }

  async function post(path, work, profile) {
    let options;
    if (work.file) {
      const form = new FormData();
      form.append("file", work.file, work.file.name);
      if (profile) form.append("profile", JSON.stringify(profile));
      options = { method: "POST", body: form };
    } else {
      const body = { text: work.text };
      if (profile) body.profile = profile;
      options = { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" } };
    }
    let response;
    try {
      response = await fetch(path, { ...options, credentials: "same-origin",
        cache: "no-store", referrerPolicy: "no-referrer" });
    } catch (e) {
      throw new Error("The server could not be reached. Is it still running?");
    }
    if (!response.ok) throw new Error(await errorMessage(response));
    return response;
  }

  async function errorMessage(response) {
    let message = `The server answered ${response.status}.`;
    try {
      const data = await response.json();
      if (data && data.error && data.error.message) message = data.error.message;
    } catch (e) {
      // not JSON
    }
    if (response.status === 503) {
      const wait = response.headers.get("Retry-After");
      return `The server is busy. Try again${wait ? ` in ${wait} s` : " shortly"}.`;
    }
    if (response.status === 413) return `The story is too large for this server: ${message}`;
    if (response.status === 415) return `This file cannot be read: ${message}`;
    return message;
  }

  function setBusy(busy, message) {
    state.busy = busy;
    $("check-button").disabled = busy;
    $("make-copy").disabled = busy;
    $("check-form").setAttribute("aria-busy", busy ? "true" : "false");
    if (message !== undefined) $("results-summary").textContent = message;
  }

  async function onCheck(event) {
    event.preventDefault();
    if (state.busy) return;
    $("form-error").textContent = "";
    const work = story();
    if (!work) {
      $("form-error").textContent = "Paste a story or choose a file first.";
      $("story-text").focus();
      return;
    }
    const profile = currentProfile();
    $("results").hidden = false;
    clear($("verdict"));
    clear($("warnings"));
    $("declared").textContent = "";
    resetCopy();
    setBusy(true, "Checking the story…");
    try {
      // one request, one scan: the verdict with the report (evidence shown only on request)
      let scan;
      let verdict = null;
      if (profile) {
        verdict = await post("/v1/check?report=true&evidence=true", work, profile)
          .then((r) => r.json());
        scan = verdict.report;
      } else {
        scan = await post("/v1/scan?evidence=true", work, null).then((r) => r.json());
      }
      state.scan = scan;
      state.verdict = verdict;
      state.evidenceShown = false;
      render();
      setBusy(false);
      $("results-heading").focus();
    } catch (e) {
      setBusy(false, "");
      $("results").hidden = true;
      $("form-error").textContent = e.message;
    }
  }

  // --- the results ----------------------------------------------------------------------

  function sortedWarnings(warnings) {
    return [...warnings].sort((a, b) =>
      rank(b.severity) - rank(a.severity) || (b.confidence || 0) - (a.confidence || 0));
  }

  function where(locations) {
    const byChapter = new Map();
    for (const loc of locations || []) {
      const span = String(loc.text || "").replace(/^chapter \d+, /, "");
      if (!byChapter.has(loc.chapter)) byChapter.set(loc.chapter, []);
      byChapter.get(loc.chapter).push(span);
    }
    return [...byChapter].map(([ch, spans]) => `chapter ${ch}, ${spans.join(" and ")}`)
      .join("; ");
  }

  function severityBadge(severity) {
    const known = SEVERITIES.includes(severity) ? severity : "declared";
    return el("span", { class: `severity severity-${known}`,
      text: known === "graphic" ? "GRAPHIC" : known });
  }

  function render() {
    const scan = state.scan;
    const verdict = state.verdict && state.verdict.works && state.verdict.works[0];
    const found = sortedWarnings(scan.warnings || []);
    const title = scan.title ? `“${scan.title}”` : "The story";
    const facts = `${scan.word_count.toLocaleString()} words, ${scan.chapters} chapter${
      scan.chapters === 1 ? "" : "s"}`;
    let summary;
    if (verdict) {
      const n = verdict.warnings.length;
      const answer = verdict.answer || (verdict.safe ? "safe" : "not safe");
      summary = {
        "safe": `Safe for your list. ${title} (${facts}): every word was read and nothing you avoid was found.`,
        "not safe": `Not safe for your list. ${title} (${facts}): ${n} warning${n === 1 ? "" : "s"} you avoid.`,
        "uncertain": `Uncertain for your list. ${title} (${facts}): nothing you avoid was found for sure, but see why below.`,
        "not checked": `Not checked. ${title} (${facts}): forewarn could not read all of it, so it cannot call it safe.`,
      }[answer];
    } else {
      summary = `${title} (${facts}): ${found.length ? `${found.length} warning${
        found.length === 1 ? "" : "s"} found.` : "no warnings found."}`;
    }
    $("results-summary").textContent = summary;
    renderVerdict(verdict);
    const list = $("warnings");
    clear(list);
    if (!found.length) {
      list.append(el("li", { class: "none", text: "forewarn found no content warnings." }));
    }
    for (const w of found) list.append(warningItem(w));
    const declared = (scan.declared || []).map((d) => d.name);
    $("declared").textContent = declared.length
      ? `Declared by the author: ${[...new Set(declared)].join(", ")}.` : "";
    const toggle = $("toggle-evidence");
    toggle.hidden = !found.some((w) => (w.evidence || []).length);
    toggle.setAttribute("aria-expanded", state.evidenceShown ? "true" : "false");
    toggle.textContent = state.evidenceShown
      ? "Hide the evidence"
      : "Show the evidence (quotes from the story: spoilers)";
  }

  function renderVerdict(verdict) {
    const box = $("verdict");
    clear(box);
    if (!verdict) {
      box.append(el("p", { class: "verdict verdict-none",
        text: "You chose no warnings to avoid, so here is everything forewarn found." }));
      return;
    }
    const answer = verdict.answer || (verdict.safe ? "safe" : "not safe");
    const heading = {
      "safe": ["verdict-safe", "Safe for your list"],
      "not safe": ["verdict-unsafe", "Not safe for your list"],
      "uncertain": ["verdict-uncertain", "Uncertain for your list"],
      "not checked": ["verdict-unchecked", "Not checked: forewarn could not read all of it"],
    }[answer];
    box.append(el("p", { class: `verdict ${heading[0]}`, text: heading[1] }));
    if ((verdict.reasons || []).length) {
      const reasons = el("ul", { class: "verdict-reasons", "aria-label": "Why" });
      for (const reason of verdict.reasons) reasons.append(el("li", { text: reason }));
      box.append(reasons);
    }
    if (verdict.warnings.length) {
      const list = el("ul", { class: "verdict-warnings", "aria-label": "What you avoid" });
      for (const w of sortedWarnings(verdict.warnings)) {
        const place = w.detected
          ? (w.where || where(w.locations))
          : "declared by the author; forewarn did not find it in the text";
        list.append(el("li", {}, severityBadge(w.severity || "declared"), " ",
          el("strong", { text: w.label }), ` — ${place}`));
      }
      box.append(list);
    }
    for (const w of verdict.allowed || []) {
      box.append(el("p", { class: "allowed",
        text: `Also: ${w.label} is ${w.severity} (${w.where || where(w.locations)}), which your list allows.` }));
    }
  }

  function warningItem(w) {
    const item = el("li", { class: "warning" },
      severityBadge(w.severity), " ",
      el("strong", { class: "warning-name", text: w.name }),
      el("span", { class: "where", text: ` — ${where(w.locations)}` }),
      el("span", { class: "confidence", text: ` (confidence ${Math.round(w.confidence * 100)}%)` }),
      w.declared ? el("span", { class: "declared-mark", text: " · declared" }) : null);
    if (state.evidenceShown && (w.evidence || []).length) {
      const quotes = el("ul", { class: "evidence" });
      for (const e of w.evidence.slice(0, MAX_EVIDENCE)) {
        quotes.append(el("li", {},
          el("span", { class: "evidence-where", text: `chapter ${e.chapter}, paragraph ${e.paragraph + 1}: ` }),
          el("q", { text: e.snippet || "" })));
      }
      if (w.evidence.length > MAX_EVIDENCE) {
        quotes.append(el("li", { class: "more", text: `… and ${w.evidence.length - MAX_EVIDENCE} more` }));
      }
      item.append(quotes);
    }
    return item;
  }

  function toggleEvidence() {
    if (!state.scan) return;
    state.evidenceShown = !state.evidenceShown;
    render();
    $("toggle-evidence").focus();
  }

  // --- the reading copy -------------------------------------------------------------------

  function resetCopy() {
    if (state.copyUrl) URL.revokeObjectURL(state.copyUrl);
    state.copyUrl = null;
    clear($("copy-links"));
  }

  async function makeCopy() {
    if (state.busy) return;
    const work = story();
    if (!work) {
      $("form-error").textContent = "Paste a story or choose a file first.";
      return;
    }
    resetCopy();
    setBusy(true);
    $("copy-links").textContent = "Making the reading copy…";
    try {
      const response = await post("/v1/read", work, currentProfile());
      const page = await response.text();
      state.copyUrl = URL.createObjectURL(new Blob([page], { type: "text/html" }));
      const links = $("copy-links");
      clear(links);
      links.append(
        el("a", { href: state.copyUrl, target: "_blank", rel: "noopener", id: "open-copy",
          text: "Open the reading copy (new tab)" }),
        " · ",
        el("a", { href: state.copyUrl, download: "reading-copy.html", id: "download-copy",
          text: "Download it" }));
      $("open-copy").focus();
    } catch (e) {
      $("copy-links").textContent = e.message;
    } finally {
      setBusy(false);
    }
  }

  // --- the file input ---------------------------------------------------------------------

  function fileChanged() {
    const file = $("story-file").files[0];
    $("clear-file").hidden = !file;
    $("story-text").disabled = Boolean(file);
    $("file-note").textContent = file
      ? `Using the file ${file.name}; the text box is ignored while a file is chosen.` : "";
  }

  function clearFile() {
    $("story-file").value = "";
    fileChanged();
    $("story-file").focus();
  }

  // --- start --------------------------------------------------------------------------------

  async function loadTaxonomy() {
    try {
      const response = await fetch("/v1/taxonomy", { cache: "no-store" });
      if (!response.ok) throw new Error(await errorMessage(response));
      state.taxonomy = await response.json();
      buildTriggerList(state.taxonomy);
      restore();
      document.body.dataset.ready = "true";
    } catch (e) {
      $("trigger-list").textContent = `The list of warnings could not be loaded: ${e.message}`;
    }
  }

  function start() {
    $("check-form").addEventListener("submit", onCheck);
    $("trigger-search").addEventListener("input", filterTriggers);
    $("remember").addEventListener("change", () => {
      if ($("remember").checked) {
        save();
        $("chosen-summary").textContent = "Your list is saved in this browser.";
      } else {
        forget();
      }
    });
    $("forget").addEventListener("click", forget);
    $("toggle-evidence").addEventListener("click", toggleEvidence);
    $("make-copy").addEventListener("click", makeCopy);
    $("story-file").addEventListener("change", fileChanged);
    $("clear-file").addEventListener("click", clearFile);
    loadTaxonomy();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
