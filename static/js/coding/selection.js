// The transcript's text and the passage selected in it: the text is kept
// exactly as the server rendered it, and the selection (in code points) is
// the "pending" passage the next code is applied to.

import { charAt, indexChunks, posOf, selectionRange } from "./positions.js";
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

  article.addEventListener("mouseup", () => {
    const sel = getSelection();
    if (sel && sel.isCollapsed) setPending(page, null);
  });
}

// The code-point position under the viewport point (x, y), or null when
// it is not in the text.
export function pointPos(page, x, y) {
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
  if (!page.el.article.contains(node)) return null;
  return posOf(page.chunks, node, offset, false);
}
