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
    keys: null, // a warning's lookup key (as the CLI normalises names) -> its id
    order: [], // the reader's list, in the order they made it (ids)
    searching: false,
    scan: null,
    verdict: null,
    list: [], // the list the last check was made with

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
      const items = el("ul", { class: "triggers", role: "group", "aria-label": group.name });
      for (const w of members) {
        const item = triggerItem(w);
        item.dataset.order = String(order++);
        items.append(item);
      }
      // collapsed: the summary names the group and how many of it are chosen
      const details = el("details", { class: "group", "data-group": group.id },
        el("summary", {}, el("span", { class: "group-name", text: group.name }), " ",
          el("span", { class: "group-count" })),
        items);
      details.dataset.order = String(order++);
      details.dataset.size = String(members.length);
      list.append(details);
    }
    updateGroupCounts();
    updateCount();
  }

  function updateGroupCounts() {
    for (const group of document.querySelectorAll("#trigger-list details.group")) {
      const n = group.querySelectorAll("input[type=checkbox]:checked").length;
      const size = group.dataset.size;
      group.querySelector(".group-count").textContent =
        n ? `(${n} of ${size} chosen)` : `(${size} warning${size === "1" ? "" : "s"})`;
      group.classList.toggle("has-chosen", n > 0);
    }
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
      remember(w.id, box.checked);
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
    const groups = [...document.querySelectorAll("#trigger-list details.group")];
    if (query && !state.searching) {
      // remember which groups the reader had open, to restore them when the search clears
      for (const group of groups) group.dataset.wasOpen = group.open ? "1" : "0";
    }
    state.searching = Boolean(query);
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
      // a search opens every group with a match; clearing it restores what was open
      group.open = query ? visible > 0 : group.dataset.wasOpen === "1";
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

  // the reader's list in the order they made it: ticked boxes, each with its strength
  function chosen() {
    const out = [];
    const ticked = [...document.querySelectorAll("#trigger-list input[type=checkbox]")]
      .filter((box) => box.checked).map((box) => box.value);
    const ids = [...state.order.filter((id) => ticked.includes(id)),
      ...ticked.filter((id) => !state.order.includes(id))];
    for (const id of ids) {
      const select = $(`s-${safeId(id)}`);
      out.push({ id, severity: select ? select.value : "mentioned" });
    }
    return out;
  }

  function remember(id, on) {
    state.order = state.order.filter((x) => x !== id);
    if (on) state.order.push(id);
  }

  // --- names and aliases, resolved as the CLI resolves them (forewarn.taxonomy) -----------

  // forewarn.taxonomy.normalize: case, spacing, punctuation, "&" and a plural "s" on the
  // last word do not matter ("Self_Harm", "self harm" and "selfharm" are one name)
  function nameKey(text) {
    let s = String(text).normalize("NFKC").toLowerCase().replace(/ß/g, "ss")
      .replace(/&/g, " and ").replace(/['’‘`´]/g, "");
    const words = s.replace(/[^\p{L}\p{N}\p{M}\s]|_/gu, " ").split(/\s+/).filter(Boolean);
    if (words.length) words[words.length - 1] = singular(words[words.length - 1]);
    return words.join(" ");
  }

  function singular(word) {
    if (word.length < 5) return word;
    if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
    if (word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
    return word;
  }

  function buildKeys(taxonomy) {
    const keys = new Map();
    const compact = new Map();
    for (const w of taxonomy.warnings) {
      for (const label of [w.id, w.name, ...w.aliases]) {
        const key = nameKey(label);
        if (!key) continue;
        if (!keys.has(key)) keys.set(key, w.id);
        if (!compact.has(key.replace(/ /g, ""))) compact.set(key.replace(/ /g, ""), w.id);
      }
    }
    return { keys, compact };
  }

  // the warning id a name, id or alias names ("mc" -> miscarriage), or null
  function resolve(name) {
    if (!state.keys) return null;
    const key = nameKey(name);
    if (!key) return null;
    return state.keys.keys.get(key) || state.keys.compact.get(key.replace(/ /g, "")) || null;
  }

  function choose(id, severity) {
    const box = $(`t-${safeId(id)}`);
    const select = $(`s-${safeId(id)}`);
    if (!box || !select) return false;
    if (!box.checked) {
      box.checked = true;
      remember(id, true);
    }
    select.disabled = false;
    if (severity && SEVERITIES.includes(severity)) select.value = severity;
    return true;
  }

  // "mc, sh, blood": tick each warning named, in that order; say what was not understood
  function addTypedList() {
    const input = $("list-text");
    const added = [];
    const unknown = [];
    for (const part of input.value.split(/[,;\n]/)) {
      const name = part.trim();
      if (!name) continue;
      const id = resolve(name);
      if (id && choose(id)) added.push(nameOf(id));
      else unknown.push(name);
    }
    const notes = [];
    if (added.length) notes.push(`Added to your list: ${[...new Set(added)].join(", ")}.`);
    if (unknown.length) {
      notes.push(`Not a warning forewarn knows: ${unknown.map((u) => `“${u}”`).join(", ")}. ` +
        "Try the search above.");
    }
    $("list-note").textContent = notes.join(" ") || "Type names or aliases, separated by commas.";
    if (!unknown.length) input.value = "";
    updateGroupCounts();
    profileChanged();
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
    updateGroupCounts();
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
    for (const [name, severity] of Object.entries(saved.avoid)) {
      const id = resolve(name); // a list written by hand may say "mc" or "sh"
      if (id) choose(id, severity);
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
    const list = chosen();
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
      state.list = profile ? list : [];
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

  // the warnings found, the reader's list first (in their order), then the rest strongest first
  function inListOrder(warnings) {
    const ids = state.list.map((e) => e.id);
    const listed = ids.map((id) => warnings.find((w) => w.id === id)).filter(Boolean);
    return [...listed, ...sortedWarnings(warnings.filter((w) => !ids.includes(w.id)))];
  }

  function render() {
    const scan = state.scan;
    const verdict = state.verdict && state.verdict.works && state.verdict.works[0];
    const found = inListOrder(scan.warnings || []);
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
    renderVerdict(verdict, scan);
    $("found-heading").textContent = state.list.length
      ? "What forewarn found: your list first, then the rest, strongest first"
      : "What forewarn found, strongest first";
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
    renderStrips(scan, found);
  }

  // where one entry of the reader's list stands: found, found but allowed, uncertain, or
  // not found (verdict: one work of /v1/check)
  function entryStatus(entry, verdict) {
    const same = (w) => w.id === entry.id;
    const hit = verdict.warnings.find(same);
    if (hit) {
      return ["found", "Found", hit.detected
        ? `${hit.severity}, ${hit.where || where(hit.locations)}`
        : "declared by the author; forewarn did not find it in the text"];
    }
    const allowed = (verdict.allowed || []).find(same);
    if (allowed) {
      return ["allowed", "Found, allowed", `only ${allowed.severity} (${allowed.where ||
        where(allowed.locations)}), which your list allows`];
    }
    const possible = (verdict.possible || []).find(same);
    if (possible) {
      return ["uncertain", "Uncertain", `possibly ${possible.severity} (${possible.where ||
        where(possible.locations)}), confidence ${Math.round(possible.confidence * 100)}%, ` +
        "below the cut-off"];
    }
    if (verdict.answer === "not checked") {
      return ["uncertain", "Uncertain", "not found, but forewarn could not read all of it"];
    }
    const weak = (verdict.weak || []).find(same);
    if (weak) {
      return ["uncertain", "Uncertain", "not found, but forewarn is weak at finding it, " +
        "so that says little"];
    }
    return ["not-found", "Not found", ""];
  }

  function renderVerdict(verdict, scan) {
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
    // the reader's own list first, in their order, each as found / not found / uncertain
    box.append(el("h4", { id: "your-list-heading", class: "verdict-subheading",
      text: "Your list" }));
    const mine = el("ul", { class: "verdict-list", "aria-labelledby": "your-list-heading" });
    for (const entry of state.list) {
      const [status, word, detail] = entryStatus(entry, verdict);
      mine.append(el("li", { class: "verdict-entry", "data-id": entry.id,
        "data-status": status },
        el("span", { class: `status status-${status}`, text: word }), " ",
        el("strong", { text: nameOf(entry.id) }),
        detail ? ` — ${detail}` : ""));
    }
    box.append(mine);
    // then the other warnings found
    const ids = state.list.map((e) => e.id);
    const others = sortedWarnings((scan.warnings || []).filter((w) => !ids.includes(w.id)));
    if (others.length) {
      box.append(el("h4", { id: "others-heading", class: "verdict-subheading",
        text: "Also found, not on your list" }));
      const list = el("ul", { class: "verdict-others", "aria-labelledby": "others-heading" });
      for (const w of others) {
        list.append(el("li", { "data-id": w.id }, severityBadge(w.severity), " ",
          el("strong", { text: w.name }), ` — ${where(w.locations)}`));
      }
      box.append(list);
    }
  }

  // --- where the warnings sit: a strip per warning (as forewarn/render/strip.py) -----------

  const SVG_NS = "http://www.w3.org/2000/svg";
  const STRIP = { width: 600, height: 24, mark: 4 };
  const MARK_HEIGHT = { mentioned: 1 / 3, depicted: 2 / 3, graphic: 1 };
  const SHADES = { mentioned: "#cf6f65", depicted: "#9c2f26", graphic: "#3d0805" };

  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function markX(chapter, position, chapters) {
    const n = Math.max(1, chapters);
    const c = Math.min(Math.max(1, chapter), n);
    const p = Number.isFinite(position) ? Math.min(Math.max(0, position), 1) : 0;
    return (c - 1 + p) / n;
  }

  function stripOf(w, chapters, label) {
    const marks = (w.evidence || []).filter((e) => e.severity in MARK_HEIGHT)
      .map((e) => ({ x: markX(e.chapter, Number(e.position), chapters), chapter: e.chapter,
        severity: e.severity }))
      .sort((a, b) => a.x - b.x || rank(a.severity) - rank(b.severity));
    return { id: w.id, label, chapters, marks };
  }

  function describeStrip(strip) {
    const per = new Map();
    for (const m of strip.marks) {
      if (!per.has(m.chapter) || rank(m.severity) > rank(per.get(m.chapter))) {
        per.set(m.chapter, m.severity);
      }
    }
    if (!per.size) return `${strip.label}: no passages located`;
    if (strip.chapters === 1) {
      const places = new Map();
      for (const m of strip.marks) {
        const at = 5 * Math.floor(m.x * 20 + 0.5);
        if (!places.has(at) || rank(m.severity) > rank(places.get(at))) places.set(at, m.severity);
      }
      const shown = [...places].sort((a, b) => a[0] - b[0]).map(([at, s]) => `${at}% (${s})`);
      return `${strip.label}: ${shown.join(", ")} of the way through`;
    }
    const runs = [];
    for (const [chapter, severity] of [...per].sort((a, b) => a[0] - b[0])) {
      const last = runs[runs.length - 1];
      if (last && last[1] === chapter - 1 && last[2] === severity) last[1] = chapter;
      else runs.push([chapter, chapter, severity]);
    }
    return `${strip.label}: ${runs.map(([a, b, s]) =>
      (a === b ? `chapter ${a} (${s})` : `chapters ${a}-${b} (${s})`)).join(", ")}`;
  }

  function dividerStep(chapters) {
    if (chapters <= 1) return chapters || 1;
    for (const step of [1, 5, 10, 25, 50, 100, 250, 500, 1000]) {
      if (STRIP.width * step / chapters >= 6) return step;
    }
    return chapters;
  }

  function stripSvg(strip, text) {
    const { width, height } = STRIP;
    const svg = svgEl("svg", { class: "strip-svg", role: "img", viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: "none", focusable: "false", "aria-label": text,
      "data-warning": strip.id, "data-chapters": strip.chapters });
    const title = svgEl("title");
    title.textContent = text;
    svg.append(title, svgEl("rect", { class: "strip-track", x: 0, y: 0, width, height }));
    const step = dividerStep(strip.chapters);
    for (let c = step; c < strip.chapters; c += step) {
      const x = (width * c) / strip.chapters;
      svg.append(svgEl("line", { class: "strip-chapter", x1: x, y1: 0, x2: x, y2: height }));
    }
    const strongestOnTop = [...strip.marks].sort((a, b) => rank(a.severity) - rank(b.severity));
    for (const m of strongestOnTop) {
      const h = height * MARK_HEIGHT[m.severity];
      const x = Math.min(Math.max(0, m.x * width - STRIP.mark / 2), width - STRIP.mark);
      svg.append(svgEl("rect", { class: `mark mark-${m.severity}`, x, y: height - h,
        width: STRIP.mark, height: h, fill: SHADES[m.severity], "data-chapter": m.chapter,
        "data-severity": m.severity }));
    }
    return svg;
  }

  // the chapter numbers under a strip, for the eye only (the line under it says it all)
  function stripScale(chapters) {
    if (chapters <= 1) return null;
    if (chapters <= 20) {
      const labels = Array.from({ length: chapters }, (_, i) => el("span", { text: String(i + 1) }));
      return el("div", { class: "strip-scale", "aria-hidden": "true" }, ...labels);
    }
    return el("div", { class: "strip-scale strip-scale-ends", "aria-hidden": "true" },
      el("span", { text: "chapter 1" }), el("span", { text: `chapter ${chapters}` }));
  }

  function renderStrips(scan, found) {
    const list = $("strips");
    clear(list);
    const located = found.filter((w) => (w.evidence || []).length);
    $("strips-section").hidden = !located.length;
    const chapters = Math.max(1, scan.chapters || 1,
      ...located.flatMap((w) => w.evidence.map((e) => e.chapter)));
    for (const w of located) {
      const strip = stripOf(w, chapters, w.name);
      const text = describeStrip(strip);
      list.append(el("li", { class: "strip", "data-warning": w.id },
        el("p", { class: "strip-name", text: w.name }),
        stripSvg(strip, text),
        stripScale(chapters),
        el("p", { class: "strip-text", text })));
    }
  }

  function warningItem(w) {
    const item = el("li", { class: "warning" },
      severityBadge(w.severity), " ",
      el("strong", { class: "warning-name", text: w.name }),
      el("span", { class: "where", text: ` — ${where(w.locations)}` }),
      el("span", { class: "confidence", text: ` (confidence ${Math.round(w.confidence * 100)}%)` }),
      w.declared ? el("span", { class: "declared-mark", text: " · declared" }) : null,
      state.list.some((e) => e.id === w.id)
        ? el("span", { class: "listed-mark", text: " · on your list" }) : null);
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
      state.keys = buildKeys(state.taxonomy);
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
    $("add-list").addEventListener("click", addTypedList);
    $("list-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault(); // add the names; do not send the form
        addTypedList();
      }
    });
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

  // for tests and userscripts: how this page resolves a name ("mc" -> "miscarriage")
  window.forewarnPage = Object.freeze({ resolve, nameKey });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
