// Where you were in each document: the scroll position and the caret are
// kept (in this browser's storage, per project and document) and brought
// back when the document is opened again; the keyboard enters the text at
// the caret left there, or at the first line in view — never at the top of
// a long transcript scrolled far past. The skip link takes the keyboard
// straight into the text.

import { posOf, rangeFor } from "./positions.js";
import { selectPositions } from "./selection.js";

function storageKey(page) {
  return `parley:place:${page.initial.project}:${page.initial.document}`;
}

function read(page) {
  try {
    const v = JSON.parse(localStorage.getItem(storageKey(page)) || "null");
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

function write(page, place) {
  try {
    localStorage.setItem(storageKey(page), JSON.stringify(place));
  } catch {
    // Storage full or switched off: the place is simply not kept.
  }
}

// The caret's code-point position, when it is in the text.
function caretPos(page) {
  const sel = getSelection();
  if (!sel || sel.rangeCount === 0 || !page.el.article.contains(sel.focusNode)) return null;
  return posOf(page.chunks, sel.focusNode, sel.focusOffset, false);
}

// The position of the first text visible in the window.
function firstInView(page) {
  const top = 8;
  for (const c of page.chunks) {
    const box = c.el.getBoundingClientRect();
    if (box.bottom > top) {
      const x = Math.max(box.left + 2, 0);
      const y = Math.max(box.top + 2, top);
      if (document.caretRangeFromPoint) {
        const r = document.caretRangeFromPoint(x, y);
        if (r && r.startContainer === c.node) return posOf(page.chunks, c.node, r.startOffset, false);
      }
      return c.start;
    }
  }
  return null;
}

// Where code point `pos` is drawn in the window, or null.
function boxAt(page, pos) {
  const r = rangeFor(page.chunks, pos, pos + 1);
  const box = r && r.getClientRects()[0];
  return box || null;
}

function inView(page, pos) {
  const box = boxAt(page, pos);
  return Boolean(box) && box.bottom > 0 && box.top < window.innerHeight;
}

// `restore`: scroll back to where the document was left (false when the
// address names a coding to show instead).
export function keepPlace(page, restore) {
  const { article, skip } = page.el;
  const saved = read(page);
  let caret = Number.isFinite(saved.caret) ? saved.caret : null;
  if (restore) {
    // Back to the scroll position left; if the caret is not in view there
    // (say the page was scrolled up to go to the next document), to the
    // caret instead — that is where the work was.
    if (Number.isFinite(saved.y) && saved.y > 0) window.scrollTo({ top: saved.y });
    if (caret !== null && !inView(page, caret)) {
      const box = boxAt(page, caret);
      if (box) window.scrollTo({ top: window.scrollY + box.top - window.innerHeight / 3 });
    }
  }

  let timer = 0;
  const save = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const now = caretPos(page);
      if (now !== null) caret = now;
      write(page, { y: Math.round(window.scrollY), caret });
    }, 250);
  };
  window.addEventListener("scroll", save, { passive: true });
  document.addEventListener("selectionchange", save);
  window.addEventListener("pagehide", () => {
    const now = caretPos(page);
    if (now !== null) caret = now;
    write(page, { y: Math.round(window.scrollY), caret });
  });

  // The keyboard enters the text where it was left: a press of the mouse
  // places the caret itself; the skip link goes to the caret kept; Tab
  // finds it when it is in view, or else the first line in view.
  let pressed = false;
  let skipping = false;
  article.addEventListener("mousedown", () => (pressed = true));
  article.addEventListener("focus", () => {
    const byMouse = pressed;
    pressed = false;
    if (byMouse || !article.isContentEditable) return;
    const sel = getSelection();
    if (sel && !sel.isCollapsed && article.contains(sel.anchorNode)) return;
    const at = caret !== null && (skipping || inView(page, caret)) ? caret : firstInView(page);
    if (at !== null) selectPositions(page, at, at);
  });

  if (skip) {
    skip.addEventListener("click", (e) => {
      e.preventDefault();
      skipping = true;
      article.focus({ preventScroll: true });
      skipping = false;
      const sel = getSelection();
      const r = sel && sel.rangeCount ? sel.getRangeAt(0) : null;
      const box = r && (r.getClientRects()[0] || (r.startContainer.parentElement || article).getBoundingClientRect());
      if (box && (box.top < 0 || box.bottom > window.innerHeight)) {
        window.scrollBy({ top: box.top - window.innerHeight / 3 });
      } else if (!box) article.scrollIntoView({ block: "start" });
    });
  }
}
