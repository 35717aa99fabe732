// The transcript's text and the passage selected in it: the text is kept
// exactly as the server rendered it, and the selection (in code points) is
// the "pending" passage the next code is applied to.

import { charAt, indexChunks, posOf, rangeFor, selectionRange } from "./positions.js";
import { render, drawPending } from "./painting.js";

// A chunk is text the server rendered; nothing on this page edits it. If
// anything does (an input method, a drag), put the text back as it was.
export function guardText(page) {
  const { article } = page.el;
  const original = article.innerHTML;
  new MutationObserver((records) => {
    if (records.some((r) => r.type === "characterData" || r.type === "childList")) {
      const sel = getSelection();
      if (sel) sel.removeAllRanges();
      article.innerHTML = original;
      page.chunks = indexChunks(article);
      render(page);
    }
  }).observe(article, { characterData: true, childList: true, subtree: true });

  for (const type of ["beforeinput", "paste", "drop", "cut", "dragstart"]) {
    article.addEventListener(type, (e) => e.preventDefault());
  }
}

// The passage [p.start, p.end) quoted, cut at 60 characters.
export function describe(page, p) {
  const text = [];
  for (let i = p.start; i < p.end && text.length < 60; i++) text.push(charAt(page.chunks, i));
  const more = p.end - p.start > 60 ? "…" : "";
  return `“${text.join("").replace(/\s+/g, " ").trim()}${more}”`;
}

export function setPending(page, p) {
  const { status } = page.el;
  page.pending = p;
  drawPending(page);
  if (status) {
    status.textContent = page.pending
      ? `${describe(page, page.pending)} — click a code, press its key, or / to find one.`
      : "Select a passage, then click a code, press its key, or press / and type a few letters.";
    status.classList.toggle("has-selection", Boolean(page.pending));
  }
}

// Follow the browser's selection: a selection in the text becomes the
// pending passage (whole words unless "snap" is unchecked); a plain click
// in the text drops it.
export function watchSelection(page) {
  const { article, snap } = page.el;
  document.addEventListener("selectionchange", () => {
    const r = selectionRange(article, page.chunks, getSelection(), !snap || snap.checked);
    if (r) setPending(page, r);
  });

  // A press inside the passage still selected (just coded, say) starts a
  // new selection there rather than dragging the selected text: drop the
  // kept selection before the browser decides what the press means. This
  // is what makes coding a phrase inside the passage just coded work.
  article.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || e.shiftKey || e.detail > 1) return;
    const sel = getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    if (!article.contains(sel.getRangeAt(0).commonAncestorContainer)) return;
    const at = caretAt(e.clientX, e.clientY);
    if (at && article.contains(at.node)) sel.collapse(at.node, at.offset);
    else sel.removeAllRanges();
  });

  article.addEventListener("mouseup", () => {
    const sel = getSelection();
    if (sel && sel.isCollapsed) setPending(page, null);
  });
}

// The DOM position under the viewport point (x, y), or null.
function caretAt(x, y) {
  if (document.caretPositionFromPoint) {
    const p = document.caretPositionFromPoint(x, y);
    return p ? { node: p.offsetNode, offset: p.offset } : null;
  }
  if (document.caretRangeFromPoint) {
    const r = document.caretRangeFromPoint(x, y);
    return r ? { node: r.startContainer, offset: r.startOffset } : null;
  }
  return null;
}

// Put the browser's selection on [start, end) (a caret when they are
// equal), so that Shift with the arrow keys carries on from there.
export function selectPositions(page, start, end) {
  const sel = getSelection();
  if (!sel) return false;
  const r = rangeFor(page.chunks, start, Math.max(end, start + 1));
  if (!r) return false;
  if (end <= start) r.collapse(true);
  sel.removeAllRanges();
  sel.addRange(r);
  return true;
}

// The code-point position under the viewport point (x, y), or null when
// it is not in the text.
export function pointPos(page, x, y) {
  const at = caretAt(x, y);
  if (!at || !page.el.article.contains(at.node)) return null;
  return posOf(page.chunks, at.node, at.offset, false);
}
