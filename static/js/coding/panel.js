// The "codings here" panel: the codings under a point in the text, each
// with its coder and date, a memo to write, a star, and removal.

import { removeCodings, saveMemo, setStar } from "./actions.js";
import { visible } from "./painting.js";
import { describe, pointPos } from "./selection.js";

// Open the panel from a click on coded text (without selecting) or on a
// stripe; close it with its button.
export function setupPanel(page) {
  const { article, stripes } = page.el;

  article.addEventListener("click", (e) => {
    const sel = getSelection();
    if (sel && !sel.isCollapsed) return;
    const pos = pointPos(page, e.clientX, e.clientY);
    if (pos === null) return;
    const at = [...page.codings.values()].filter((m) => visible(page, m) && m.start <= pos && pos < m.end);
    if (at.length) showHere(page, pos, true);
    else closeHere(page);
  });

  stripes.addEventListener("click", (e) => {
    const b = e.target.closest(".stripe");
    if (!b) return;
    const m = page.codings.get(Number(b.dataset.coding));
    if (m) showHere(page, m.start, true, m.id);
  });

  document.getElementById("here-close").addEventListener("click", () => closeHere(page));
}

function when(iso) {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// List the codings at code point `pos`; `scroll`: bring the panel into
// view (and focus the memo of coding `focusId`, if given).
export function showHere(page, pos, scroll, focusId) {
  const { here, hereList } = page.el;
  page.hereAt = pos;
  const at = [...page.codings.values()]
    .filter((m) => visible(page, m) && m.start <= pos && pos < m.end)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  if (at.length === 0) return closeHere(page);
  hereList.textContent = "";
  for (const m of at) {
    const c = page.codes.get(m.code_id);
    const li = document.createElement("li");
    li.className = "here-item";
    li.id = `here-${m.id}`;
    li.style.setProperty("--c", c.colour);
    const head = document.createElement("div");
    head.className = "here-head";
    const sw = document.createElement("span");
    sw.className = "swatch";
    const name = document.createElement("a");
    name.href = `/projects/${page.initial.project}/codes/${c.id}`;
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
    meta.textContent = `${page.coders.get(m.coder) || "former member"} · ${when(m.created_at)} · ${describe(page, m)}`;
    li.append(head, meta);
    const mine = m.coder === page.me || page.isOwner;
    if (page.canCode && mine) {
      const memo = document.createElement("textarea");
      memo.rows = 2;
      memo.value = m.memo;
      memo.placeholder = "Memo on this coding…";
      memo.setAttribute("aria-label", `Memo on the ${c.name} coding`);
      memo.className = "here-memo";
      const row = document.createElement("div");
      row.className = "here-actions";
      const save = button("Save memo", "small", () => saveMemo(page, m.id, memo.value));
      memo.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          saveMemo(page, m.id, memo.value);
        }
      });
      const star = button(m.starred ? "Unstar" : "Star as quote", "small", () => setStar(page, m.id, !m.starred));
      const remove = button("Remove", "small danger", () => removeCodings(page, [m.id]));
      row.append(save, star, remove);
      li.append(memo, row);
    } else {
      if (m.memo) {
        const p = document.createElement("p");
        p.className = "prewrap memo-note";
        p.textContent = m.memo;
        li.append(p);
      }
      if (page.canCode) {
        const row = document.createElement("div");
        row.className = "here-actions";
        row.append(button(m.starred ? "Unstar" : "Star as quote", "small", () => setStar(page, m.id, !m.starred)));
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

export function closeHere(page) {
  page.hereAt = null;
  page.el.here.hidden = true;
}

// A button labelled `label` with classes `cls`.
export function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}
