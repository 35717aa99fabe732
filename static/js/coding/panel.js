// The "codings here" panel: the codings under a point in the text, each
// with its coder and date, a memo to write, a star, its extent and code to
// change, and removal.

import { changeCoding, removeCodings, saveMemo, setStar } from "./actions.js";
import { visible } from "./painting.js";
import { hideHandles, showHandles } from "./handles.js";
import { wordStep } from "./positions.js";
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

// "2026-11-25 14:03 UTC", as every page of Parley writes a time.
function when(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
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
      const remove = button("Remove", "small danger", () => removeCodings(page, [m.id]));
      row.append(save, starButton(page, m), remove);
      li.append(memo, row, extentControls(page, m, c));
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
        row.append(starButton(page, m));
        li.append(row);
      }
    }
    hereList.append(li);
  }
  here.hidden = false;
  // Handles on the coding asked for, else the first one you may change;
  // pointing at or tabbing into another in the panel moves them there.
  const editable = at.filter((m) => page.canCode && (m.coder === page.me || page.isOwner));
  const first = editable.find((m) => m.id === focusId) || editable[0];
  if (first) showHandles(page, first.id);
  else hideHandles();
  for (const m of editable) {
    const li = document.getElementById(`here-${m.id}`);
    const on = () => showHandles(page, m.id);
    li.addEventListener("mouseenter", on);
    li.addEventListener("focusin", on);
  }
  if (scroll) {
    here.scrollIntoView({ block: "nearest" });
    const target = focusId ? document.getElementById(`here-${focusId}`) : hereList.firstElementChild;
    const focusable = target && (target.querySelector("textarea") || target.querySelector("a"));
    if (focusable && focusId) focusable.focus({ preventScroll: true });
  }
}

// A toggle button for the coding's star: it shows the new state at once
// (aria-pressed), and goes back if the server refuses.
function starButton(page, m) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small star-toggle";
  b.dataset.act = `star-${m.id}`;
  const show = (on) => {
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? "★ Starred quote" : "☆ Star as quote";
  };
  show(m.starred);
  b.addEventListener("click", async () => {
    const on = b.getAttribute("aria-pressed") !== "true";
    show(on);
    const ok = await setStar(page, m.id, on);
    if (!ok) show(!on);
    else redrawHere(page, m.id, b.dataset.act);
  });
  return b;
}

// Moving a coding's ends a word at a time, or to the selected passage, and
// changing its code — all on the same coding, so memo, star and history
// stay with it.
function extentControls(page, m, c) {
  const box = document.createElement("div");
  box.className = "here-extent";
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", `Extent and code of the ${c.name} coding`);
  // `to` gives the new extent from the coding as it is when the change runs
  // (after any change still on its way to the server).
  const move = async (act, to) => {
    const done = await changeCoding(page, m.id, (cur) => {
      const [start, end] = to(cur);
      if (start < 0 || end <= start || (start === cur.start && end === cur.end)) return null;
      return { start, end };
    });
    if (done) redrawHere(page, m.id, act);
  };
  const step = (act, label, title, which, to) => {
    const key = `${act}-${m.id}`;
    const b = button(label, "small step", () =>
      move(key, (cur) =>
        which === "start"
          ? [wordStep(page.chunks, cur.start, to), cur.end]
          : [cur.start, wordStep(page.chunks, cur.end, to)],
      ),
    );
    b.dataset.act = key;
    b.setAttribute("aria-label", title);
    b.title = title;
    return b;
  };
  const startRow = document.createElement("span");
  startRow.className = "extent-end";
  startRow.append(
    label("Start"),
    step("start-earlier", "‹", "Start a word earlier", "start", "prevStart"),
    step("start-later", "›", "Start a word later", "start", "nextStart"),
  );
  const endRow = document.createElement("span");
  endRow.className = "extent-end";
  endRow.append(
    label("End"),
    step("end-earlier", "‹", "End a word earlier", "end", "prevEnd"),
    step("end-later", "›", "End a word later", "end", "nextEnd"),
  );
  const toSel = button("Set to selection", "small", () => {
    const p = page.pending;
    if (!p) {
      page.el.status.textContent = "Select the passage the coding should cover, then press “Set to selection”.";
      return;
    }
    move(`to-selection-${m.id}`, () => [p.start, p.end]);
  });
  toSel.dataset.act = `to-selection-${m.id}`;
  toSel.title = "Make this coding cover the passage selected in the text";
  // Keep the text selection when the button is pressed.
  toSel.addEventListener("mousedown", (e) => e.preventDefault());

  const pick = document.createElement("select");
  pick.className = "here-recode";
  pick.dataset.act = `recode-${m.id}`;
  pick.setAttribute("aria-label", `Code of this coding (now ${c.name})`);
  for (const id of page.codeOrder) {
    const k = page.codes.get(id);
    pick.add(new Option(`${"  ".repeat(k.depth)}${k.name}`, String(k.id), false, k.id === m.code_id));
  }
  pick.addEventListener("change", async () => {
    const done = await changeCoding(page, m.id, { code_id: Number(pick.value) });
    if (done) redrawHere(page, m.id, pick.dataset.act);
    else pick.value = String(m.code_id);
  });
  const recode = document.createElement("label");
  recode.className = "here-recode-label";
  recode.append("Code", pick);
  box.append(startRow, endRow, toSel, recode);
  return box;
}

function label(text) {
  const l = document.createElement("span");
  l.className = "extent-label";
  l.textContent = text;
  return l;
}

// Show the panel again for coding `id` (where it now is), with the
// keyboard back on the control `act` that changed it.
function redrawHere(page, id, act) {
  const m = page.codings.get(id);
  if (!m) return;
  showHere(page, m.start, false);
  const again = page.el.hereList.querySelector(`[data-act="${act}"]`);
  if (again) again.focus({ preventScroll: true });
}

export function closeHere(page) {
  page.hereAt = null;
  page.el.here.hidden = true;
  hideHandles();
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
