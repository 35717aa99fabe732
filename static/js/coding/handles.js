// Drag a coding's ends with the mouse: while the "Codings here" panel shows
// one of your codings (the one the pointer or the keyboard is on in the
// panel), two handles mark its start and end in the text; dragging one
// moves that end to the word boundary under the pointer, and letting go
// saves the new extent (memo, star and date stay). The keyboard does the
// same with the panel's Start ‹ › and End ‹ › buttons.

import { changeCoding } from "./actions.js";
import { rangeFor, snapToWords } from "./positions.js";
import { pointPos } from "./selection.js";

let handles = null; // {page, id, start: el, end: el}

export function hideHandles() {
  if (!handles) return;
  handles.start.remove();
  handles.end.remove();
  handles = null;
}

// Put the two handles on coding `id` (one of yours), or take them away.
export function showHandles(page, id) {
  hideHandles();
  const m = page.codings.get(id);
  if (!m || !page.canCode || !(m.coder === page.me || page.isOwner)) return;
  const range = rangeFor(page.chunks, m.start, m.end);
  const rects = range ? [...range.getClientRects()].filter((r) => r.width > 0) : [];
  if (rects.length === 0) return;
  const colour = (page.codes.get(m.code_id) || {}).colour || "#1f5f8b";
  const first = rects[0];
  const last = rects[rects.length - 1];
  const extent = `${m.start}-${m.end}`;
  handles = {
    page,
    id,
    start: handle(page, id, "start", extent, first.left, first.top, first.height, colour),
    end: handle(page, id, "end", extent, last.right, last.top, last.height, colour),
  };
}

function handle(page, id, which, extent, x, y, height, colour) {
  const h = document.createElement("span");
  h.className = `extent-handle handle-${which}`;
  h.dataset.end = which;
  // The extent the handle was drawn for ("start-end").
  h.dataset.extent = extent;
  h.setAttribute("aria-hidden", "true");
  h.title = which === "start" ? "Drag to move the start of this coding" : "Drag to move the end of this coding";
  h.style.setProperty("--c", colour);
  // Just outside the coding, so the first and last letters stay readable.
  place(h, which === "start" ? x - 7 : x + 1, y, height);
  document.body.append(h);
  h.addEventListener("pointerdown", (e) => drag(page, id, which, h, e));
  return h;
}

function place(h, x, y, height) {
  h.style.left = `${x + window.scrollX}px`;
  h.style.top = `${y + window.scrollY - 2}px`;
  h.style.height = `${height + 4}px`;
}

function drag(page, id, which, h, down) {
  down.preventDefault();
  down.stopPropagation();
  h.setPointerCapture(down.pointerId);
  h.classList.add("dragging");
  let to = null;
  const move = (e) => {
    // The handle follows the pointer: hidden for a moment, it does not
    // hide the text under it.
    h.style.visibility = "hidden";
    const pos = pointPos(page, e.clientX, e.clientY);
    h.style.visibility = "";
    if (pos === null) return;
    to = pos;
    h.style.left = `${e.clientX + window.scrollX - 3}px`;
  };
  const up = async (e) => {
    h.removeEventListener("pointermove", move);
    h.removeEventListener("pointerup", up);
    h.classList.remove("dragging");
    move(e);
    const m = page.codings.get(id);
    if (!m || to === null) return showHandles(page, id);
    let [start, end] = which === "start" ? [to, m.end] : [m.start, to];
    if (start > end) [start, end] = [end, start];
    const snap = page.el.snap;
    if (!snap || snap.checked) {
      const snapped = snapToWords(page.chunks, start, end);
      if (snapped) [start, end] = [snapped.start, snapped.end];
    }
    if (end - start < 1 || (start === m.start && end === m.end)) return showHandles(page, id);
    const changed = await changeCoding(page, id, { start, end });
    showHandles(page, changed ? changed.id : id);
  };
  h.addEventListener("pointermove", move);
  h.addEventListener("pointerup", up);
}

// Laid out again, the text moves under the handles: put them back on it.
window.addEventListener("resize", () => {
  if (handles) showHandles(handles.page, handles.id);
});
