// Drawing the codings: the coder and code filters, highlights on the text
// (the CSS Custom Highlight API: ranges painted by the browser, no wrapping
// elements) and stripes in their own margin layer — the text is never
// re-rendered, so a selection survives every redraw.

import { rangeFor } from "./positions.js";
import { updateCounts } from "./codes.js";
import { showHere } from "./panel.js";

const hasHighlights = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";

const LANE = 7;
const MAX_LANES = 12;

// The highlight style sheet, the filters' choices and events, and stripes
// redrawn when the text's layout changes.
export function setupPainting(page) {
  const { article, filterCoder, filterCode } = page.el;
  page.sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, page.sheet];

  for (const [id, name] of page.coders) {
    if (id !== page.me) filterCoder.add(new Option(name, String(id)));
  }
  filterCoder.addEventListener("change", () => render(page));
  filterCode.addEventListener("change", () => render(page));

  let resizeTimer = 0;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => drawStripes(page, shownCodings(page)), 120);
  }).observe(article);
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// One highlight style per code, in its colour.
export function buildStyles(page) {
  const rules = [
    "::highlight(parley-pending) { background-color: rgba(31, 95, 139, 0.28); text-decoration: underline 2px rgb(31, 95, 139); }",
    "::highlight(parley-flash) { background-color: rgba(240, 180, 41, 0.6); }",
  ];
  for (const c of page.codes.values()) {
    rules.push(`::highlight(code-${c.id}) { background-color: ${rgba(c.colour, 0.26)}; }`);
  }
  page.sheet.replaceSync(rules.join("\n"));
}

// The code filter's choices, in tree order, keeping the choice made.
export function renderCodeFilter(page) {
  const { filterCode } = page.el;
  const keep = filterCode.value;
  filterCode.length = 1;
  for (const id of page.codeOrder) {
    const c = page.codes.get(id);
    const o = new Option(`${"  ".repeat(c.depth)}${c.name}`, String(c.id));
    filterCode.add(o);
  }
  filterCode.value = page.codes.has(Number(keep)) ? keep : "";
}

// Whether the filters let coding `m` be drawn.
export function visible(page, m) {
  const { filterCoder, filterCode } = page.el;
  const who = filterCoder.value;
  if (who === "me" && m.coder !== page.me) return false;
  if (who && who !== "me" && m.coder !== Number(who)) return false;
  if (filterCode.value && m.code_id !== Number(filterCode.value)) return false;
  return page.codes.has(m.code_id);
}

function shownCodings(page) {
  return [...page.codings.values()].filter((m) => visible(page, m));
}

// Redraw everything that shows the codings.
export function render(page) {
  const { here, count } = page.el;
  const shown = shownCodings(page);
  if (hasHighlights) {
    for (const name of [...CSS.highlights.keys()]) {
      if (name.startsWith("code-")) CSS.highlights.delete(name);
    }
    const byCode = new Map();
    for (const m of shown) {
      const r = rangeFor(page.chunks, m.start, m.end);
      if (!r) continue;
      if (!byCode.has(m.code_id)) byCode.set(m.code_id, []);
      byCode.get(m.code_id).push(r);
    }
    for (const [code, ranges] of byCode) {
      const h = new Highlight(...ranges);
      CSS.highlights.set(`code-${code}`, h);
    }
  }
  drawPending(page);
  drawStripes(page, shown);
  updateCounts(page);
  // Redraw the open panel, unless someone is writing in it.
  if (page.hereAt !== null && !here.contains(document.activeElement)) showHere(page, page.hereAt, false);
  const total = page.codings.size;
  count.textContent = `${shown.length} of ${total} coding${total === 1 ? "" : "s"} shown`;
}

export function drawPending(page) {
  if (!hasHighlights) return;
  const r = page.pending ? rangeFor(page.chunks, page.pending.start, page.pending.end) : null;
  if (r) CSS.highlights.set("parley-pending", new Highlight(r));
  else CSS.highlights.delete("parley-pending");
}

// Light up `range` for a moment.
export function flash(range) {
  if (!hasHighlights) return;
  CSS.highlights.set("parley-flash", new Highlight(range));
  setTimeout(() => CSS.highlights.delete("parley-flash"), 2500);
}

// One stripe per coding in the margin, in lanes so overlapping codings sit
// side by side; a code keeps its lane where it can.
function drawStripes(page, shown) {
  const { wrap, stripes } = page.el;
  const top0 = wrap.getBoundingClientRect().top;
  const items = [];
  for (const m of shown) {
    const r = rangeFor(page.chunks, m.start, m.end);
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
    const c = page.codes.get(it.m.code_id);
    const d = document.createElement("button");
    d.type = "button";
    d.className = "stripe";
    d.tabIndex = -1;
    d.dataset.coding = String(it.m.id);
    d.style.top = `${it.top}px`;
    d.style.height = `${Math.max(6, it.bottom - it.top)}px`;
    d.style.left = `${Math.min(lane, MAX_LANES - 1) * LANE}px`;
    d.style.background = c.colour;
    d.title = `${c.path} — ${page.coders.get(it.m.coder) || "someone"}`;
    d.setAttribute("aria-label", `${c.name} coding`);
    frag.append(d);
  }
  stripes.textContent = "";
  stripes.style.width = `${Math.min(Math.max(laneEnds.length, 1), MAX_LANES) * LANE}px`;
  stripes.append(frag);
}
