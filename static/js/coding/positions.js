// Positions: the server speaks code points (Rust chars); the DOM speaks
// UTF-16. Every stretch of document text on the page is an element with
// `data-s` = the code-point position of its first character, holding that
// text exactly; positions are converted through those stretches only.
//
// Everything here is a pure function of the page's text: the stretches
// ("chunks") are indexed once with `indexChunks(article)` and passed in.
// Nothing is kept between calls.

// The text stretches under `article`, in document order:
// {el, node, start, end, cps, simple} with `start`/`end` in code points,
// `cps` the stretch's characters, and `simple` when no character in it
// takes two UTF-16 units (so offsets are the same in both).
export function indexChunks(article) {
  const chunks = [];
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
  return chunks;
}

// The index of the chunk holding code point `pos` (or the next one after
// it), or null past the end.
export function chunkAtPos(chunks, pos) {
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

// Code points into a chunk → UTF-16 units into its text node.
export function utf16Offset(chunk, cpOffset) {
  if (chunk.simple) return cpOffset;
  let n = 0;
  for (let i = 0; i < cpOffset && i < chunk.cps.length; i++) n += chunk.cps[i].length;
  return n;
}

// UTF-16 units into a chunk's text node → code points into the chunk. An
// offset inside a surrogate pair counts the whole character.
export function cpOffset(chunk, utf16) {
  if (chunk.simple) return utf16;
  let n = 0;
  let i = 0;
  while (i < chunk.cps.length && n < utf16) n += chunk.cps[i++].length;
  return i;
}

// A DOM range for [start, end) in code points, clipped to rendered text;
// null when nothing of it is on the page.
export function rangeFor(chunks, start, end) {
  const a = chunkAtPos(chunks, start);
  const b = chunkAtPos(chunks, end - 1);
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
export function posOf(chunks, container, offset, after) {
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

// The character at code point `pos`, or "" where no text is rendered.
export function charAt(chunks, pos) {
  const i = chunkAtPos(chunks, pos);
  if (i === null) return "";
  const c = chunks[i];
  return pos >= c.start ? c.cps[pos - c.start] : "";
}

const wordChar = /[\p{L}\p{N}\p{M}'’_-]/u;

// Grow [start, end) to whole words, and trim white space at its ends;
// null when nothing but white space is left.
export function snapToWords(chunks, start, end) {
  while (start < end && /\s/u.test(charAt(chunks, start))) start++;
  while (end > start && /\s/u.test(charAt(chunks, end - 1))) end--;
  if (start >= end) return null;
  while (start > 0 && wordChar.test(charAt(chunks, start - 1)) && wordChar.test(charAt(chunks, start))) start--;
  while (wordChar.test(charAt(chunks, end)) && wordChar.test(charAt(chunks, end - 1))) end++;
  return { start, end };
}

// The code-point range {start, end} of a DOM selection inside `article`
// (snapped to whole words when `snap`), or null when it selects no text
// there.
export function selectionRange(article, chunks, selection, snap) {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const r = selection.getRangeAt(0);
  if (!article.contains(r.commonAncestorContainer)) return null;
  const start = posOf(chunks, r.startContainer, r.startOffset, false);
  const end = posOf(chunks, r.endContainer, r.endOffset, true);
  if (end <= start) return null;
  if (snap) return snapToWords(chunks, start, end);
  return { start, end };
}

// The end of the rendered text, in code points.
export function textEnd(chunks) {
  return chunks.length ? chunks[chunks.length - 1].end : 0;
}

// A word boundary near `pos`, for moving a coding's ends a word at a time:
// `to` is "prevStart" (the start of the word before or at pos),
// "nextStart" (the start of the next word), "prevEnd" (the end of the word
// before) or "nextEnd" (the end of the word after or at pos).
export function wordStep(chunks, pos, to) {
  const max = textEnd(chunks);
  const word = (i) => i >= 0 && i < max && wordChar.test(charAt(chunks, i));
  let p = pos;
  if (to === "prevStart") {
    while (p > 0 && !word(p - 1)) p--;
    while (p > 0 && word(p - 1)) p--;
  } else if (to === "nextStart") {
    while (p < max && word(p)) p++;
    while (p < max && !word(p)) p++;
  } else if (to === "prevEnd") {
    while (p > 0 && word(p - 1)) p--;
    while (p > 0 && !word(p - 1)) p--;
  } else if (to === "nextEnd") {
    while (p < max && !word(p)) p++;
    while (p < max && word(p)) p++;
  }
  return p;
}
