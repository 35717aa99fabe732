// Drawing the codings: the coder and code filters, highlights on the text
// (the CSS Custom Highlight API: ranges painted by the browser, no wrapping
// elements) and stripes in their own margin layer — the text is never
// re-rendered, so a selection survives every redraw.
//
// Overlaps stay readable: each coding underlines its text in its code's
// colour and line style (solid, dashed, dotted — a second cue beside hue
// for colour-blind readers), overlapping codings on lines set one below
// the other; text under one code gets a light tint of its colour, and text
// under several a neutral grey that darkens with the overlap, rather than
// translucent colours stacked into a muddy blend.

import { rangeFor } from "./positions.js";
import { updateCounts } from "./codes.js";
import { showHere } from "./panel.js";

const hasHighlights = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";

const LANE = 7;
const MAX_LANES = 12;
// Underline lanes under a line of text (the transcript's line height
// leaves room for four).
const TEXT_LANES = 4;
const STYLES = ["solid", "dashed", "dotted"];

// A code's line style: by its place in the codebook, so neighbouring codes
// differ in style as well as colour.
export function lineStyle(page, codeId) {
  const i = page.codeOrder.indexOf(codeId);
  return STYLES[(i < 0 ? 0 : i) % STYLES.length];
}

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

  setupStripeKeys(page);

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

// One highlight style per code and underline lane, in its colour, and the
// tints under the text.
export function buildStyles(page) {
  const rules = [
    "::highlight(parley-overlap-2) { background-color: rgba(70, 80, 100, 0.13); }",
    "::highlight(parley-overlap-3) { background-color: rgba(70, 80, 100, 0.22); }",
    "::highlight(parley-pending) { background-color: rgba(31, 95, 139, 0.28); text-decoration: underline 2px rgb(31, 95, 139); }",
    "::highlight(parley-flash) { background-color: rgba(240, 180, 41, 0.6); }",
  ];
  page.codeOrder.forEach((id, i) => {
    const c = page.codes.get(id);
    const style = STYLES[i % STYLES.length];
    rules.push(`::highlight(tint-${c.id}) { background-color: ${rgba(c.colour, 0.18)}; }`);
    for (let lane = 0; lane < TEXT_LANES; lane++) {
      rules.push(
        `::highlight(${laneName(c.id, lane)}) { text-decoration: underline 3px ${style} ${c.colour}; text-underline-offset: ${3 + lane * 5}px; text-decoration-skip-ink: none; }`,
      );
    }
  });
  page.sheet.replaceSync(rules.join("\n"));
}

function laneName(codeId, lane) {
  return lane === 0 ? `code-${codeId}` : `code-${codeId}-${lane}`;
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

// Lanes for codings by their ranges of text: overlapping codings get
// different lanes, and a code keeps its lane where it can.
function textLanes(shown) {
  const sorted = [...shown].sort((a, b) => a.start - b.start || b.end - a.end);
  const laneEnds = [];
  const preferred = new Map();
  const lanes = new Map();
  for (const m of sorted) {
    let lane = preferred.get(m.code_id);
    if (lane === undefined || laneEnds[lane] > m.start) {
      lane = laneEnds.findIndex((end) => end <= m.start);
      if (lane === -1) lane = laneEnds.length;
    }
    laneEnds[lane] = m.end;
    preferred.set(m.code_id, lane);
    lanes.set(m.id, lane);
  }
  return lanes;
}

// The stretches of text under codings: under one code (tinted in its
// colour) or several (a neutral tint by how many).
function tints(shown) {
  const edges = [];
  for (const m of shown) {
    edges.push([m.start, 1, m.code_id], [m.end, -1, m.code_id]);
  }
  edges.sort((a, b) => a[0] - b[0]);
  const open = new Map();
  const out = [];
  let at = null;
  for (let i = 0; i < edges.length; ) {
    const pos = edges[i][0];
    if (at !== null && pos > at && open.size > 0) {
      out.push({ start: at, end: pos, codes: [...open.keys()] });
    }
    while (i < edges.length && edges[i][0] === pos) {
      const [, d, code] = edges[i++];
      const n = (open.get(code) || 0) + d;
      if (n > 0) open.set(code, n);
      else open.delete(code);
    }
    at = pos;
  }
  return out;
}

// Redraw everything that shows the codings.
export function render(page) {
  const { here, count } = page.el;
  const shown = shownCodings(page);
  if (hasHighlights) {
    for (const name of [...CSS.highlights.keys()]) {
      if (name.startsWith("code-") || name.startsWith("tint-") || name.startsWith("parley-overlap")) {
        CSS.highlights.delete(name);
      }
    }
    const groups = new Map();
    const add = (name, r) => {
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(r);
    };
    const lanes = textLanes(shown);
    for (const m of shown) {
      const r = rangeFor(page.chunks, m.start, m.end);
      if (r) add(laneName(m.code_id, Math.min(lanes.get(m.id), TEXT_LANES - 1)), r);
    }
    for (const t of tints(shown)) {
      const r = rangeFor(page.chunks, t.start, t.end);
      if (!r) continue;
      if (t.codes.length === 1) add(`tint-${t.codes[0]}`, r);
      else add(t.codes.length === 2 ? "parley-overlap-2" : "parley-overlap-3", r);
    }
    for (const [name, ranges] of groups) CSS.highlights.set(name, new Highlight(...ranges));
  }
  drawPending(page);
  drawStripes(page, shown);
  drawLegend(page, shown);
  updateCounts(page);
  // Redraw the open panel, unless someone is writing in it.
  if (page.hereAt !== null && !here.contains(document.activeElement)) showHere(page, page.hereAt, false);
  const total = page.codings.size;
  count.textContent = `${shown.length} of ${total} coding${total === 1 ? "" : "s"} shown`;
}

// The codes drawn in this document, each with its colour, line style and
// number of codings.
function drawLegend(page, shown) {
  const legend = page.el.legend;
  if (!legend) return;
  const n = new Map();
  for (const m of shown) n.set(m.code_id, (n.get(m.code_id) || 0) + 1);
  legend.textContent = "";
  for (const id of page.codeOrder) {
    if (!n.has(id)) continue;
    const c = page.codes.get(id);
    const li = document.createElement("li");
    li.className = "legend-item";
    li.title = c.path;
    li.style.setProperty("--c", c.colour);
    li.style.setProperty("--ls", lineStyle(page, id));
    const sample = document.createElement("span");
    sample.className = "legend-sample";
    sample.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "legend-name";
    name.textContent = c.name;
    const k = document.createElement("span");
    k.className = "code-count";
    k.textContent = String(n.get(id));
    k.setAttribute("aria-label", `${n.get(id)} coding${n.get(id) === 1 ? "" : "s"}`);
    li.append(sample, name, k);
    legend.append(li);
  }
  legend.hidden = n.size === 0;
  const empty = page.el.legendEmpty;
  if (empty) empty.hidden = n.size > 0;
}

export function drawPending(page) {
  if (!hasHighlights) return;
  const r = page.pending ? rangeFor(page.chunks, page.pending.start, page.pending.end) : null;
  if (r) {
    const h = new Highlight(r);
    h.priority = 10;
    CSS.highlights.set("parley-pending", h);
  }
  else CSS.highlights.delete("parley-pending");
}

// Light up `range` for a moment.
export function flash(range) {
  if (!hasHighlights) return;
  const h = new Highlight(range);
  h.priority = 11;
  CSS.highlights.set("parley-flash", h);
  setTimeout(() => CSS.highlights.delete("parley-flash"), 2500);
}

// One stripe per coding in the margin, in lanes so overlapping codings sit
// side by side; a code keeps its lane where it can. Each stripe is a
// button naming its code (shown on hover and on focus); the stripes are
// one stop for Tab, and the arrow keys move between them.
function drawStripes(page, shown) {
  const { wrap, stripes } = page.el;
  const top0 = wrap.getBoundingClientRect().top;
  const focused = document.activeElement && stripes.contains(document.activeElement) ? document.activeElement.dataset.coding : null;
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
    d.className = `stripe stripe-${lineStyle(page, c.id)}`;
    d.tabIndex = -1;
    d.dataset.coding = String(it.m.id);
    d.dataset.label = c.name;
    d.style.top = `${it.top}px`;
    d.style.height = `${Math.max(6, it.bottom - it.top)}px`;
    d.style.left = `${Math.min(lane, MAX_LANES - 1) * LANE}px`;
    d.style.setProperty("--c", c.colour);
    d.setAttribute("aria-label", `${c.path} — coded by ${page.coders.get(it.m.coder) || "someone"}`);
    frag.append(d);
  }
  stripes.textContent = "";
  stripes.style.width = `${Math.min(Math.max(laneEnds.length, 1), MAX_LANES) * LANE}px`;
  stripes.append(frag);
  const all = [...stripes.children];
  const keep = focused && all.find((b) => b.dataset.coding === focused);
  const stop = keep || all[0];
  if (stop) stop.tabIndex = 0;
  if (keep) keep.focus({ preventScroll: true });
}

// Arrow keys between the stripes, top to bottom.
export function setupStripeKeys(page) {
  const { stripes } = page.el;
  stripes.addEventListener("keydown", (e) => {
    const b = e.target.closest(".stripe");
    if (!b) return;
    const all = [...stripes.children];
    const i = all.indexOf(b);
    let next = null;
    if (e.key === "ArrowDown" || e.key === "ArrowRight") next = all[i + 1];
    else if (e.key === "ArrowUp" || e.key === "ArrowLeft") next = all[i - 1];
    else if (e.key === "Home") next = all[0];
    else if (e.key === "End") next = all[all.length - 1];
    else return;
    e.preventDefault();
    if (!next) return;
    b.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}
