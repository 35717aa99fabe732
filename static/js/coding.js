// The coding page: select a passage, apply codes, see codings as coloured
// highlights and margin stripes, open the codings under a point, undo, and
// see other coders' work arrive without losing your selection.
//
// Positions: the server speaks code points (Rust chars); the DOM speaks
// UTF-16. Every stretch of document text on the page is an element with
// `data-s` = the code-point position of its first character, holding that
// text exactly; positions are converted through those stretches only.
//
// The text is never re-rendered: highlights use the CSS Custom Highlight API
// (ranges painted by the browser, no wrapping elements), stripes are drawn
// in their own layer, so a selection survives every update.

const stateEl = document.getElementById("coding-state");
const article = document.getElementById("transcript");
if (stateEl && article) start(JSON.parse(stateEl.textContent));

function start(initial) {
  const api = `/api/v1/projects/${initial.project}`;
  const me = initial.me;
  const canCode = initial.can_code;
  const isOwner = initial.is_owner;
  const coders = new Map(initial.coders.map((c) => [c.id, c.name]));

  let codes = new Map(); // id -> code
  let codeOrder = []; // ids in tree order
  let codings = new Map(); // id -> mark
  let fingerprint = initial.fingerprint;
  let pending = null; // {start, end} of the selection to code
  let hereAt = null; // position whose codings the "here" panel lists
  const undoStack = [];

  const wrap = document.getElementById("transcript-wrap");
  const stripes = document.getElementById("stripes");
  const list = document.getElementById("code-list");
  const filter = document.getElementById("code-filter");
  const status = document.getElementById("selection-status");
  const applyChecked = document.getElementById("apply-checked");
  const undoButton = document.getElementById("undo");
  const snap = document.getElementById("snap");
  const here = document.getElementById("here");
  const hereList = document.getElementById("here-list");
  const filterCoder = document.getElementById("filter-coder");
  const filterCode = document.getElementById("filter-code");
  const count = document.getElementById("coding-count");
  const toast = document.getElementById("toast");

  // ---- text stretches and position conversion -------------------------

  const original = article.innerHTML;
  let chunks = [];

  function indexChunks() {
    chunks = [];
    for (const el of article.querySelectorAll("[data-s]")) {
      const node = el.firstChild;
      if (!node || node.nodeType !== Node.TEXT_NODE || node.data.length === 0) continue;
      const text = node.data;
      const cps = Array.from(text);
      chunks.push({
        el,
        node,
        start: Number(el.dataset.s),
        end: Number(el.dataset.s) + cps.length,
        cps,
        simple: cps.length === text.length,
      });
    }
  }
  indexChunks();

  // A chunk is text the server rendered; nothing on this page edits it. If
  // anything does (an input method, a drag), put the text back as it was.
  new MutationObserver((records) => {
    if (records.some((r) => r.type === "characterData" || r.type === "childList")) {
      const sel = getSelection();
      if (sel) sel.removeAllRanges();
      article.innerHTML = original;
      indexChunks();
      render();
    }
  }).observe(article, { characterData: true, childList: true, subtree: true });

  for (const type of ["beforeinput", "paste", "drop", "cut", "dragstart"]) {
    article.addEventListener(type, (e) => e.preventDefault());
  }

  function chunkAtPos(pos) {
    // The chunk holding code point `pos` (or the next one after it).
    let lo = 0;
    let hi = chunks.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chunks[mid].end <= pos) lo = mid + 1;
      else {
        found = mid;
        hi = mid - 1;
      }
    }
    return found;
  }

  function utf16Offset(chunk, cpOffset) {
    if (chunk.simple) return cpOffset;
    let n = 0;
    for (let i = 0; i < cpOffset && i < chunk.cps.length; i++) n += chunk.cps[i].length;
    return n;
  }

  function cpOffset(chunk, utf16) {
    if (chunk.simple) return utf16;
    let n = 0;
    let i = 0;
    while (i < chunk.cps.length && n < utf16) n += chunk.cps[i++].length;
    return i;
  }

  // A DOM range for [start, end) in code points, clipped to rendered text.
  function rangeFor(start, end) {
    const a = chunkAtPos(start);
    const b = chunkAtPos(end - 1);
    if (a === null || b === null) return null;
    const first = chunks[a];
    let lastIndex = b;
    if (chunks[b].start >= end) lastIndex = b - 1;
    if (lastIndex < a) return null;
    const last = chunks[lastIndex];
    const range = document.createRange();
    range.setStart(first.node, utf16Offset(first, Math.max(0, start - first.start)));
    range.setEnd(last.node, utf16Offset(last, Math.min(last.cps.length, end - last.start)));
    return range.collapsed ? null : range;
  }

  // Code-point position of a DOM boundary point. `after`: for an end point
  // between stretches, count up to the end of the stretch before it.
  function posOf(container, offset, after) {
    const holder = container.nodeType === Node.TEXT_NODE ? container.parentElement : null;
    if (holder && holder.dataset && holder.dataset.s !== undefined) {
      const chunk = chunks.find((c) => c.node === container);
      if (chunk) return chunk.start + cpOffset(chunk, offset);
    }
    const point = document.createRange();
    point.setStart(container, offset);
    // First stretch that starts after the point.
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (point.comparePoint(chunks[mid].node, 0) > 0) hi = mid;
      else lo = mid + 1;
    }
    if (after) return lo > 0 ? chunks[lo - 1].end : chunks.length ? chunks[0].start : 0;
    return lo < chunks.length ? chunks[lo].start : chunks.length ? chunks[chunks.length - 1].end : 0;
  }

  function charAt(pos) {
    const i = chunkAtPos(pos);
    if (i === null) return "";
    const c = chunks[i];
    return pos >= c.start ? c.cps[pos - c.start] : "";
  }

  const wordChar = /[\p{L}\p{N}\p{M}'’_-]/u;

  // Grow a selection to whole words, and trim white space at its ends.
  function snapToWords(start, end) {
    while (start < end && /\s/u.test(charAt(start))) start++;
    while (end > start && /\s/u.test(charAt(end - 1))) end--;
    if (start >= end) return null;
    while (start > 0 && wordChar.test(charAt(start - 1)) && wordChar.test(charAt(start))) start--;
    while (wordChar.test(charAt(end)) && wordChar.test(charAt(end - 1))) end++;
    return { start, end };
  }

  function selectionRange() {
    const sel = getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!article.contains(r.commonAncestorContainer)) return null;
    let start = posOf(r.startContainer, r.startOffset, false);
    let end = posOf(r.endContainer, r.endOffset, true);
    if (end <= start) return null;
    if (!snap || snap.checked) return snapToWords(start, end);
    return { start, end };
  }

  // ---- codes -----------------------------------------------------------

  function setCodes(list) {
    codes = new Map(list.map((c) => [c.id, c]));
    codeOrder = list.map((c) => c.id);
    buildStyles();
    renderCodeList();
    renderCodeFilter();
  }

  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  function buildStyles() {
    const rules = [
      "::highlight(parley-pending) { background-color: rgba(31, 95, 139, 0.28); text-decoration: underline 2px rgb(31, 95, 139); }",
      "::highlight(parley-flash) { background-color: rgba(240, 180, 41, 0.6); }",
    ];
    for (const c of codes.values()) {
      rules.push(`::highlight(code-${c.id}) { background-color: ${rgba(c.colour, 0.26)}; }`);
    }
    sheet.replaceSync(rules.join("\n"));
  }

  function renderCodeList() {
    if (!list) return;
    const checked = new Set([...list.querySelectorAll('[aria-selected="true"]')].map((li) => Number(li.dataset.code)));
    list.textContent = "";
    for (const id of codeOrder) {
      const c = codes.get(id);
      const li = document.createElement("li");
      li.className = "code-item";
      li.setAttribute("role", "option");
      li.dataset.code = String(c.id);
      li.style.setProperty("--c", c.colour);
      li.style.setProperty("--depth", String(c.depth));
      li.setAttribute("aria-selected", checked.has(c.id) ? "true" : "false");
      li.title = c.definition ? `${c.path}\n\n${c.definition}` : c.path;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "code-check";
      box.tabIndex = -1;
      box.checked = checked.has(c.id);
      box.setAttribute("aria-label", `Check ${c.name} to apply several codes at once`);
      box.hidden = !canCode;
      const sw = document.createElement("span");
      sw.className = "swatch";
      const name = document.createElement("span");
      name.className = "code-label";
      name.textContent = c.name;
      li.append(box, sw, name);
      if (c.shortcut) {
        const k = document.createElement("kbd");
        k.textContent = c.shortcut;
        li.append(k);
      }
      const n = document.createElement("span");
      n.className = "code-count";
      li.append(n);
      list.append(li);
    }
    const none = document.getElementById("no-codes");
    if (none) none.hidden = codes.size > 0;
    applyFilterText();
    updateCounts();
  }

  function renderCodeFilter() {
    const keep = filterCode.value;
    filterCode.length = 1;
    for (const id of codeOrder) {
      const c = codes.get(id);
      const o = new Option(`${"  ".repeat(c.depth)}${c.name}`, String(c.id));
      filterCode.add(o);
    }
    filterCode.value = codes.has(Number(keep)) ? keep : "";
  }

  // ---- filters ----------------------------------------------------------

  for (const [id, name] of coders) {
    if (id !== me) filterCoder.add(new Option(name, String(id)));
  }

  function visible(m) {
    const who = filterCoder.value;
    if (who === "me" && m.coder !== me) return false;
    if (who && who !== "me" && m.coder !== Number(who)) return false;
    if (filterCode.value && m.code_id !== Number(filterCode.value)) return false;
    return codes.has(m.code_id);
  }

  filterCoder.addEventListener("change", render);
  filterCode.addEventListener("change", render);

  // ---- drawing -----------------------------------------------------------

  const hasHighlights = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";

  function render() {
    const shown = [...codings.values()].filter(visible);
    if (hasHighlights) {
      for (const name of [...CSS.highlights.keys()]) {
        if (name.startsWith("code-")) CSS.highlights.delete(name);
      }
      const byCode = new Map();
      for (const m of shown) {
        const r = rangeFor(m.start, m.end);
        if (!r) continue;
        if (!byCode.has(m.code_id)) byCode.set(m.code_id, []);
        byCode.get(m.code_id).push(r);
      }
      for (const [code, ranges] of byCode) {
        const h = new Highlight(...ranges);
        CSS.highlights.set(`code-${code}`, h);
      }
    }
    drawPending();
    drawStripes(shown);
    updateCounts();
    // Redraw the open panel, unless someone is writing in it.
    if (hereAt !== null && !here.contains(document.activeElement)) showHere(hereAt, false);
    count.textContent = `${shown.length} of ${codings.size} coding${codings.size === 1 ? "" : "s"} shown`;
  }

  function drawPending() {
    if (!hasHighlights) return;
    const r = pending ? rangeFor(pending.start, pending.end) : null;
    if (r) CSS.highlights.set("parley-pending", new Highlight(r));
    else CSS.highlights.delete("parley-pending");
  }

  const LANE = 7;
  const MAX_LANES = 12;

  // One stripe per coding in the margin, in lanes so overlapping codings sit
  // side by side; a code keeps its lane where it can.
  function drawStripes(shown) {
    const top0 = wrap.getBoundingClientRect().top;
    const items = [];
    for (const m of shown) {
      const r = rangeFor(m.start, m.end);
      if (!r) continue;
      const rects = r.getClientRects();
      if (rects.length === 0) continue;
      const top = rects[0].top - top0;
      const bottom = rects[rects.length - 1].bottom - top0;
      items.push({ m, top, bottom });
    }
    items.sort((a, b) => a.top - b.top || b.bottom - a.bottom);
    const laneEnds = [];
    const preferred = new Map();
    const frag = document.createDocumentFragment();
    for (const it of items) {
      let lane = preferred.get(it.m.code_id);
      if (lane === undefined || laneEnds[lane] > it.top) {
        lane = laneEnds.findIndex((end) => end <= it.top);
        if (lane === -1) lane = laneEnds.length;
      }
      laneEnds[lane] = it.bottom + 2;
      preferred.set(it.m.code_id, lane);
      const c = codes.get(it.m.code_id);
      const d = document.createElement("button");
      d.type = "button";
      d.className = "stripe";
      d.tabIndex = -1;
      d.dataset.coding = String(it.m.id);
      d.style.top = `${it.top}px`;
      d.style.height = `${Math.max(6, it.bottom - it.top)}px`;
      d.style.left = `${Math.min(lane, MAX_LANES - 1) * LANE}px`;
      d.style.background = c.colour;
      d.title = `${c.path} — ${coders.get(it.m.coder) || "someone"}`;
      d.setAttribute("aria-label", `${c.name} coding`);
      frag.append(d);
    }
    stripes.textContent = "";
    stripes.style.width = `${Math.min(Math.max(laneEnds.length, 1), MAX_LANES) * LANE}px`;
    stripes.append(frag);
  }

  let resizeTimer = 0;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => drawStripes([...codings.values()].filter(visible)), 120);
  }).observe(article);

  function updateCounts() {
    if (!list) return;
    const n = new Map();
    for (const m of codings.values()) n.set(m.code_id, (n.get(m.code_id) || 0) + 1);
    for (const li of list.children) {
      const el = li.querySelector(".code-count");
      const k = n.get(Number(li.dataset.code)) || 0;
      if (el) el.textContent = k ? String(k) : "";
    }
  }

  // ---- the selection -----------------------------------------------------

  function describe(p) {
    const text = [];
    for (let i = p.start; i < p.end && text.length < 60; i++) text.push(charAt(i));
    const more = p.end - p.start > 60 ? "…" : "";
    return `“${text.join("").replace(/\s+/g, " ").trim()}${more}”`;
  }

  function setPending(p) {
    pending = p;
    drawPending();
    if (status) {
      status.textContent = pending
        ? `${describe(pending)} — click a code, press its key, or / to find one.`
        : "Select a passage, then click a code, press its key, or press / and type a few letters.";
      status.classList.toggle("has-selection", Boolean(pending));
    }
  }

  document.addEventListener("selectionchange", () => {
    const r = selectionRange();
    if (r) setPending(r);
  });

  article.addEventListener("mouseup", () => {
    const sel = getSelection();
    if (sel && sel.isCollapsed) setPending(null);
  });

  // Click on coded text (without selecting) lists the codings there.
  article.addEventListener("click", (e) => {
    const sel = getSelection();
    if (sel && !sel.isCollapsed) return;
    const pos = pointPos(e.clientX, e.clientY);
    if (pos === null) return;
    const at = [...codings.values()].filter((m) => visible(m) && m.start <= pos && pos < m.end);
    if (at.length) showHere(pos, true);
    else closeHere();
  });

  function pointPos(x, y) {
    let node;
    let offset;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      if (!p) return null;
      node = p.offsetNode;
      offset = p.offset;
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(x, y);
      if (!r) return null;
      node = r.startContainer;
      offset = r.startOffset;
    } else return null;
    if (!article.contains(node)) return null;
    return posOf(node, offset, false);
  }

  stripes.addEventListener("click", (e) => {
    const b = e.target.closest(".stripe");
    if (!b) return;
    const m = codings.get(Number(b.dataset.coding));
    if (m) showHere(m.start, true, m.id);
  });

  // ---- the "codings here" panel -------------------------------------------

  function when(iso) {
    const d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function showHere(pos, scroll, focusId) {
    hereAt = pos;
    const at = [...codings.values()]
      .filter((m) => visible(m) && m.start <= pos && pos < m.end)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    if (at.length === 0) return closeHere();
    hereList.textContent = "";
    for (const m of at) {
      const c = codes.get(m.code_id);
      const li = document.createElement("li");
      li.className = "here-item";
      li.id = `here-${m.id}`;
      li.style.setProperty("--c", c.colour);
      const head = document.createElement("div");
      head.className = "here-head";
      const sw = document.createElement("span");
      sw.className = "swatch";
      const name = document.createElement("a");
      name.href = `/projects/${initial.project}/codes/${c.id}`;
      name.textContent = c.path;
      name.className = "here-code";
      head.append(sw, name);
      if (m.starred) {
        const s = document.createElement("span");
        s.className = "star on";
        s.textContent = "★";
        s.title = "Illustrative quote";
        head.append(s);
      }
      const meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = `${coders.get(m.coder) || "former member"} · ${when(m.created_at)} · ${describe(m)}`;
      li.append(head, meta);
      const mine = m.coder === me || isOwner;
      if (canCode && mine) {
        const memo = document.createElement("textarea");
        memo.rows = 2;
        memo.value = m.memo;
        memo.placeholder = "Memo on this coding…";
        memo.setAttribute("aria-label", `Memo on the ${c.name} coding`);
        memo.className = "here-memo";
        const row = document.createElement("div");
        row.className = "here-actions";
        const save = button("Save memo", "small", () => saveMemo(m.id, memo.value));
        memo.addEventListener("keydown", (e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            saveMemo(m.id, memo.value);
          }
        });
        const star = button(m.starred ? "Unstar" : "Star as quote", "small", () => setStar(m.id, !m.starred));
        const remove = button("Remove", "small danger", () => removeCodings([m.id]));
        row.append(save, star, remove);
        li.append(memo, row);
      } else {
        if (m.memo) {
          const p = document.createElement("p");
          p.className = "prewrap memo-note";
          p.textContent = m.memo;
          li.append(p);
        }
        if (canCode) {
          const row = document.createElement("div");
          row.className = "here-actions";
          row.append(button(m.starred ? "Unstar" : "Star as quote", "small", () => setStar(m.id, !m.starred)));
          li.append(row);
        }
      }
      hereList.append(li);
    }
    here.hidden = false;
    if (scroll) {
      here.scrollIntoView({ block: "nearest" });
      const target = focusId ? document.getElementById(`here-${focusId}`) : hereList.firstElementChild;
      const focusable = target && (target.querySelector("textarea") || target.querySelector("a"));
      if (focusable && focusId) focusable.focus({ preventScroll: true });
    }
  }

  function closeHere() {
    hereAt = null;
    here.hidden = true;
  }
  document.getElementById("here-close").addEventListener("click", closeHere);

  function button(label, cls, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // ---- talking to the server ------------------------------------------------

  async function call(method, path, body) {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      throw new Error("signed out");
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error) || `the server answered ${response.status}`);
    return data;
  }

  function asMark(c) {
    return {
      id: c.id,
      code_id: c.code_id,
      coder: c.coder,
      start: c.start,
      end: c.end,
      memo: c.memo,
      starred: c.starred,
      created_at: c.created_at,
    };
  }

  let toastTimer = 0;
  function say(text, undoable, isError) {
    toast.textContent = "";
    toast.append(text);
    toast.classList.toggle("toast-error", Boolean(isError));
    if (undoable) {
      toast.append(" ", button("Undo", "small", undo));
    }
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.hidden = true), isError ? 8000 : 5000);
  }

  function pushUndo(action) {
    undoStack.push(action);
    if (undoStack.length > 50) undoStack.shift();
    undoButton.disabled = false;
  }

  async function applyCodes(ids) {
    if (!canCode) return;
    if (!pending) {
      say("Select a passage first.", false, true);
      return;
    }
    const span = pending;
    const made = [];
    const errors = [];
    await Promise.all(
      ids.map(async (code_id) => {
        try {
          const c = await call("POST", "/codings", { document_id: initial.document, code_id, start: span.start, end: span.end });
          if (!codings.has(c.id)) made.push(c.id);
          codings.set(c.id, asMark(c));
        } catch (e) {
          errors.push(e.message);
        }
      }),
    );
    render();
    if (made.length) {
      pushUndo({ kind: "create", ids: made });
      const names = ids.map((id) => codes.get(id)).filter(Boolean).map((c) => c.name);
      say(`Coded ${describe(span)} as ${names.join(", ")}.`, true);
    } else if (!errors.length) {
      say("Already coded like this.", false);
    }
    if (errors.length) say(`Not saved: ${errors[0]}`, false, true);
  }

  async function removeCodings(ids, fromUndo) {
    const removed = [];
    for (const id of ids) {
      const m = codings.get(id);
      try {
        await call("DELETE", `/codings/${id}`);
        codings.delete(id);
        if (m) removed.push(m);
      } catch (e) {
        say(`Not removed: ${e.message}`, false, true);
      }
    }
    render();
    if (removed.length && !fromUndo) {
      pushUndo({ kind: "delete", marks: removed });
      say(`Removed ${removed.length === 1 ? "a coding" : `${removed.length} codings`}.`, true);
    }
  }

  async function saveMemo(id, memo, fromUndo) {
    const before = codings.get(id);
    try {
      const c = await call("PATCH", `/codings/${id}`, { memo });
      codings.set(id, asMark(c));
      if (!fromUndo && before) pushUndo({ kind: "memo", id, memo: before.memo });
      render();
      say("Memo saved.", !fromUndo);
    } catch (e) {
      say(`Memo not saved: ${e.message}`, false, true);
    }
  }

  async function setStar(id, starred, fromUndo) {
    try {
      const c = await call("PATCH", `/codings/${id}`, { starred });
      codings.set(id, asMark(c));
      if (!fromUndo) pushUndo({ kind: "star", id, starred: !starred });
      render();
      say(starred ? "Starred as an illustrative quote." : "Star removed.", !fromUndo);
    } catch (e) {
      say(`Not changed: ${e.message}`, false, true);
    }
  }

  async function undo() {
    const action = undoStack.pop();
    undoButton.disabled = undoStack.length === 0;
    if (!action) return;
    if (action.kind === "create") {
      await removeCodings(action.ids.filter((id) => codings.has(id)), true);
      say("Undone: the coding was removed.");
    } else if (action.kind === "delete") {
      for (const m of action.marks) {
        try {
          const c = await call("POST", "/codings", { document_id: initial.document, code_id: m.code_id, start: m.start, end: m.end, memo: m.memo });
          let mark = asMark(c);
          if (m.starred) mark = asMark(await call("PATCH", `/codings/${c.id}`, { starred: true }));
          codings.set(c.id, mark);
        } catch (e) {
          say(`Could not put it back: ${e.message}`, false, true);
        }
      }
      render();
      say("Undone: the coding is back.");
    } else if (action.kind === "memo") {
      await saveMemo(action.id, action.memo, true);
    } else if (action.kind === "star") {
      await setStar(action.id, action.starred, true);
    }
  }
  if (undoButton) undoButton.addEventListener("click", undo);

  async function createCode(name) {
    try {
      const c = await call("POST", "/codes", { name });
      await refreshCodes();
      return c.id;
    } catch (e) {
      say(`Code not created: ${e.message}`, false, true);
      return null;
    }
  }

  // ---- the code list: click, check, filter ----------------------------------

  function checkedIds() {
    return [...list.querySelectorAll('[aria-selected="true"]')].map((li) => Number(li.dataset.code));
  }

  function updateChecked() {
    const n = checkedIds().length;
    if (applyChecked) {
      applyChecked.disabled = n === 0;
      applyChecked.textContent = n > 1 ? `Apply ${n} codes` : "Apply checked";
    }
  }

  function toggleCheck(li) {
    const on = li.getAttribute("aria-selected") !== "true";
    li.setAttribute("aria-selected", on ? "true" : "false");
    li.querySelector(".code-check").checked = on;
    updateChecked();
  }

  if (list && canCode) {
    // Keep the text selection when a code is clicked.
    list.addEventListener("mousedown", (e) => e.preventDefault());
    list.addEventListener("click", (e) => {
      const li = e.target.closest(".code-item");
      if (!li) return;
      if (e.target.classList.contains("code-check") || e.ctrlKey || e.metaKey || e.shiftKey) {
        if (!e.target.classList.contains("code-check")) toggleCheck(li);
        else {
          li.setAttribute("aria-selected", e.target.checked ? "true" : "false");
          updateChecked();
        }
        return;
      }
      applyCodes([Number(li.dataset.code)]);
    });
  }
  if (applyChecked) {
    applyChecked.addEventListener("mousedown", (e) => e.preventDefault());
    applyChecked.addEventListener("click", async () => {
      const ids = checkedIds();
      if (!ids.length) return;
      await applyCodes(ids);
      for (const li of list.querySelectorAll('[aria-selected="true"]')) toggleCheck(li);
    });
  }

  let active = -1; // index among the visible items while filtering

  function shownItems() {
    return [...list.children].filter((li) => !li.hidden);
  }

  function applyFilterText() {
    if (!filter) return;
    const q = filter.value.trim().toLowerCase();
    for (const li of list.children) {
      const c = codes.get(Number(li.dataset.code));
      li.hidden = q !== "" && !c.path.toLowerCase().includes(q);
    }
    const items = shownItems();
    active = q && items.length ? 0 : -1;
    markActive();
  }

  function markActive() {
    const items = shownItems();
    list.querySelectorAll(".active").forEach((li) => li.classList.remove("active"));
    if (active >= 0 && items[active]) {
      items[active].classList.add("active");
      items[active].scrollIntoView({ block: "nearest" });
      filter.setAttribute("aria-activedescendant", (items[active].id = `code-option-${items[active].dataset.code}`));
    } else if (filter) filter.removeAttribute("aria-activedescendant");
  }

  if (filter) {
    filter.addEventListener("input", applyFilterText);
    filter.addEventListener("keydown", async (e) => {
      const items = shownItems();
      if (e.key === "ArrowDown") {
        e.preventDefault();
        active = Math.min(items.length - 1, active + 1);
        markActive();
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        active = Math.max(0, active - 1);
        markActive();
      } else if (e.key === " " && active >= 0 && e.ctrlKey) {
        e.preventDefault();
        toggleCheck(items[active]);
      } else if (e.key === "Enter") {
        e.preventDefault();
        const checked = checkedIds();
        if (checked.length && (e.ctrlKey || e.metaKey)) {
          await applyCodes(checked);
          for (const li of list.querySelectorAll('[aria-selected="true"]')) toggleCheck(li);
        } else if (active >= 0 && items[active]) {
          await applyCodes([Number(items[active].dataset.code)]);
        } else if (filter.value.trim()) {
          const id = await createCode(filter.value.trim());
          if (id !== null && pending) await applyCodes([id]);
        }
        filter.value = "";
        applyFilterText();
      } else if (e.key === "Escape") {
        e.preventDefault();
        filter.value = "";
        applyFilterText();
        article.focus({ preventScroll: true });
      }
    });
  }

  // ---- keys anywhere on the page ---------------------------------------------

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    const typing = t !== article && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "z") {
      if (undoStack.length) {
        e.preventDefault();
        undo();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      setPending(null);
      closeHere();
      return;
    }
    if (!canCode) return;
    if (e.key === "/") {
      e.preventDefault();
      filter.focus();
      return;
    }
    if (e.key.length !== 1 || e.key === " ") return;
    const key = e.key.toLowerCase();
    const code = [...codes.values()].find((c) => c.shortcut === key);
    if (code) {
      e.preventDefault();
      applyCodes([code.id]);
    } else if (pending && /\p{L}|\p{N}/u.test(e.key)) {
      // Typing a few letters with a passage selected starts a search.
      e.preventDefault();
      filter.focus();
      filter.value = e.key;
      applyFilterText();
    }
  });

  // ---- live updates ------------------------------------------------------------

  async function refreshCodes() {
    const r = await fetch(`${api}/codes`, { credentials: "same-origin" });
    if (r.ok) setCodes((await r.json()).items);
  }

  async function poll() {
    try {
      const r = await fetch(`${api}/documents/${initial.document}/codings`, {
        credentials: "same-origin",
        headers: { "If-None-Match": `"${fingerprint}"` },
        cache: "no-store",
      });
      if (r.status === 200) {
        const data = await r.json();
        fingerprint = data.fingerprint;
        await refreshCodes();
        codings = new Map(data.codings.map((m) => [m.id, m]));
        render();
      }
    } catch {
      // Offline for a moment: try again at the next tick.
    }
  }
  setInterval(() => {
    if (!document.hidden) poll();
  }, 4000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  // ---- the document memo without a reload ----------------------------------------

  const memoForm = document.getElementById("doc-memo-form");
  if (memoForm) {
    memoForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await call("PUT", `/documents/${initial.document}/memo`, { memo: memoForm.memo.value });
        say("Document memo saved.");
      } catch (err) {
        say(`Memo not saved: ${err.message}`, false, true);
      }
    });
  }

  // ---- start ---------------------------------------------------------------------

  setCodes(initial.codes);
  codings = new Map(initial.codings.map((m) => [m.id, m]));
  render();
  updateChecked();

  // `#coding-12`: scroll to that coding and show it.
  const hash = /^#coding-(\d+)$/.exec(location.hash);
  if (hash) {
    const m = codings.get(Number(hash[1]));
    const r = m && rangeFor(m.start, m.end);
    if (r) {
      const box = r.getBoundingClientRect();
      window.scrollTo({ top: window.scrollY + box.top - window.innerHeight / 3 });
      if (hasHighlights) {
        CSS.highlights.set("parley-flash", new Highlight(r));
        setTimeout(() => CSS.highlights.delete("parley-flash"), 2500);
      }
      showHere(m.start, false, m.id);
    }
  }
}
