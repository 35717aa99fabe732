// Picking codes: the code list (click a code to apply it, check several
// to apply them at once), its search box, and the keys that work anywhere
// on the page (a code's shortcut, / to search, Escape, Ctrl+Z).

import { applyCodes, createCode, undo } from "./actions.js";
import { buildStyles, renderCodeFilter } from "./painting.js";
import { closeHere } from "./panel.js";
import { selectPositions, setPending } from "./selection.js";

// The project's codes changed (or arrived): keep them and redraw what
// lists them.
export function setCodes(page, list) {
  page.codes = new Map(list.map((c) => [c.id, c]));
  page.codeOrder = list.map((c) => c.id);
  page.folded = new Map(list.map((c) => [c.id, { name: fold(c.name), path: fold(c.path) }]));
  buildStyles(page);
  renderCodeList(page);
  renderCodeFilter(page);
}

function renderCodeList(page) {
  const { list } = page.el;
  if (!list) return;
  const checked = new Set([...list.querySelectorAll('[aria-selected="true"]')].map((li) => Number(li.dataset.code)));
  list.textContent = "";
  page.codeItems = new Map();
  for (const id of page.codeOrder) {
    const c = page.codes.get(id);
    const li = document.createElement("li");
    li.className = "code-item";
    li.setAttribute("role", "option");
    li.dataset.code = String(c.id);
    li.style.setProperty("--c", c.colour);
    li.style.setProperty("--depth", String(c.depth));
    li.setAttribute("aria-selected", checked.has(c.id) ? "true" : "false");
    li.title = c.definition ? `${c.path}\n\n${c.definition}` : c.path;
    // A drawn box, not a control: an option holds no controls of its own,
    // and its aria-selected already says whether it is checked.
    const box = document.createElement("span");
    box.className = "code-check";
    box.setAttribute("aria-hidden", "true");
    box.title = "Check to apply several codes at once";
    box.hidden = !page.canCode;
    const sw = document.createElement("span");
    sw.className = "swatch";
    const name = document.createElement("span");
    name.className = "code-label";
    name.textContent = c.name;
    const parent = c.path.slice(0, Math.max(0, c.path.length - c.name.length)).replace(/\s*\/\s*$/, "");
    if (parent) {
      const where = document.createElement("span");
      where.className = "code-parent";
      where.textContent = ` in ${parent}`;
      name.append(where);
    }
    li.append(box, sw, name);
    page.codeItems.set(c.id, li);
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
  if (none) none.hidden = page.codes.size > 0;
  applyFilterText(page);
  updateCounts(page);
}

// Each code's number of codings in this document, beside its name.
export function updateCounts(page) {
  const { list } = page.el;
  if (!list) return;
  const n = new Map();
  for (const m of page.codings.values()) n.set(m.code_id, (n.get(m.code_id) || 0) + 1);
  for (const li of list.children) {
    const el = li.querySelector(".code-count");
    const k = n.get(Number(li.dataset.code)) || 0;
    if (el) el.textContent = k ? String(k) : "";
  }
}

function checkedIds(page) {
  return [...page.el.list.querySelectorAll('[aria-selected="true"]')].map((li) => Number(li.dataset.code));
}

export function updateChecked(page) {
  const { applyChecked } = page.el;
  const n = checkedIds(page).length;
  if (applyChecked) {
    applyChecked.disabled = n === 0;
    applyChecked.textContent = n > 1 ? `Apply ${n} codes` : "Apply checked";
  }
}

function toggleCheck(page, li) {
  const on = li.getAttribute("aria-selected") !== "true";
  li.setAttribute("aria-selected", on ? "true" : "false");
  updateChecked(page);
}

function uncheckAll(page) {
  for (const li of page.el.list.querySelectorAll('[aria-selected="true"]')) toggleCheck(page, li);
}

function shownItems(page) {
  return [...page.el.list.children].filter((li) => !li.hidden);
}

// Lower case without accents, so "cafe" finds "Café".
function fold(text) {
  return text.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
}

// How well code `f` (its folded name and path) matches the folded query
// `q` (its words `words`): 0 is the best, -1 no match.
function rank(f, q, words) {
  if (f.name === q) return 0;
  if (f.name.startsWith(q)) return 1;
  if (f.name.split(/[\s/_-]+/).some((w) => w.startsWith(q))) return 2;
  if (f.name.includes(q)) return 3;
  if (f.path.includes(q)) return 4;
  if (words.length > 1 && words.every((w) => f.path.includes(w))) return 5;
  return -1;
}

// Narrow the list to the codes matching the search box's text, best
// matches first (by name, then by path), with a row to create a code of
// that name when no code has it. Only moves the list's own items, so it
// stays quick with hundreds of codes.
function applyFilterText(page) {
  const { filter, list } = page.el;
  if (!filter || !page.codeItems) return;
  const raw = filter.value.trim();
  const q = fold(raw);
  const words = q.split(/\s+/).filter(Boolean);
  const order = [];
  const rest = [];
  let exact = false;
  page.codeOrder.forEach((id, i) => {
    const r = q ? rank(page.folded.get(id), q, words) : 0;
    if (r === 0 && q) exact = true;
    (r >= 0 ? order : rest).push({ id, r, i });
  });
  order.sort((a, b) => a.r - b.r || a.i - b.i);
  // Touch only what changes: a moved or re-shown row is laid out again,
  // and the rest stay as they are (hidden rows stay wherever they were).
  for (const { id } of rest) {
    const li = page.codeItems.get(id);
    if (!li.hidden) li.hidden = true;
  }
  const shown = order.map(({ id }) => page.codeItems.get(id));
  const wanted = new Set(shown);
  let ref = list.firstElementChild;
  for (const li of shown) {
    if (li.hidden) li.hidden = false;
    while (ref && ref !== li && !wanted.has(ref)) ref = ref.nextElementSibling;
    if (ref === li) ref = ref.nextElementSibling;
    else list.insertBefore(li, ref);
  }
  let create = document.getElementById("code-create");
  if (q && !exact && page.canCode) {
    if (!create) {
      create = document.createElement("li");
      create.id = "code-create";
      create.className = "code-item code-create";
      create.setAttribute("role", "option");
      create.setAttribute("aria-selected", "false");
      const plus = document.createElement("span");
      plus.className = "create-plus";
      plus.setAttribute("aria-hidden", "true");
      plus.textContent = "+";
      const label = document.createElement("span");
      label.className = "code-label";
      create.append(plus, label);
    }
    create.querySelector(".code-label").textContent = `Create “${raw}”`;
    create.dataset.name = raw;
    if (list.lastElementChild !== create) list.append(create);
  } else if (create) create.remove();
  list.classList.toggle("filtering", Boolean(q));
  page.active = q && shownItems(page).length ? 0 : -1;
  markActive(page);
}

function markActive(page) {
  const { filter, list } = page.el;
  const items = shownItems(page);
  const active = page.active;
  list.querySelectorAll(".active").forEach((li) => li.classList.remove("active"));
  if (active >= 0 && items[active]) {
    items[active].classList.add("active");
    items[active].scrollIntoView({ block: "nearest" });
    if (!items[active].id) items[active].id = `code-option-${items[active].dataset.code}`;
    filter.setAttribute("aria-activedescendant", items[active].id);
  } else if (filter) filter.removeAttribute("aria-activedescendant");
}

// The list's clicks and checks, the "apply checked" button, the search
// box's keys, and the page's keys.
export function setupCodeList(page) {
  const { list, applyChecked, filter } = page.el;
  if (list && page.canCode) {
    // Keep the text selection when a code is clicked.
    list.addEventListener("mousedown", (e) => e.preventDefault());
    list.addEventListener("click", async (e) => {
      const li = e.target.closest(".code-item");
      if (!li) return;
      if (li.classList.contains("code-create")) {
        await createFromFilter(page, li.dataset.name);
        return;
      }
      if (e.target.classList.contains("code-check") || e.ctrlKey || e.metaKey || e.shiftKey) {
        toggleCheck(page, li);
        return;
      }
      applyCodes(page, [Number(li.dataset.code)]);
    });
  }
  if (applyChecked) {
    applyChecked.addEventListener("mousedown", (e) => e.preventDefault());
    applyChecked.addEventListener("click", async () => {
      const ids = checkedIds(page);
      if (!ids.length) return;
      await applyCodes(page, ids);
      uncheckAll(page);
    });
  }

  if (filter) {
    filter.addEventListener("input", () => applyFilterText(page));
    filter.addEventListener("keydown", (e) => filterKey(page, e));
  }
  document.addEventListener("keydown", (e) => pageKey(page, e));
}

async function filterKey(page, e) {
  const { filter } = page.el;
  const items = shownItems(page);
  if (e.key === "ArrowDown") {
    e.preventDefault();
    page.active = Math.min(items.length - 1, page.active + 1);
    markActive(page);
  } else if (e.key === "ArrowUp") {
    e.preventDefault();
    page.active = Math.max(0, page.active - 1);
    markActive(page);
  } else if (e.key === " " && page.active >= 0 && e.ctrlKey) {
    e.preventDefault();
    toggleCheck(page, items[page.active]);
  } else if (e.key === "Enter") {
    e.preventDefault();
    const checked = checkedIds(page);
    if (checked.length && (e.ctrlKey || e.metaKey)) {
      await applyCodes(page, checked);
      uncheckAll(page);
    } else if (page.active >= 0 && items[page.active] && !items[page.active].classList.contains("code-create")) {
      await applyCodes(page, [Number(items[page.active].dataset.code)]);
    } else if (filter.value.trim()) {
      await createFromFilter(page, filter.value.trim());
      return;
    } else return;
    filter.value = "";
    applyFilterText(page);
    backToText(page);
  } else if (e.key === "Escape") {
    e.preventDefault();
    filter.value = "";
    applyFilterText(page);
    backToText(page);
  }
}

// Create the code `name` (and apply it to the selection, if any).
async function createFromFilter(page, name) {
  const { filter } = page.el;
  const id = await createCode(page, name);
  if (id === null) return;
  if (page.pending) await applyCodes(page, [id]);
  filter.value = "";
  applyFilterText(page);
  backToText(page);
}

// Back to the transcript with the passage still selected, so Shift and the
// arrow keys carry on from it (a code applied from the search box leaves
// the keyboard in the text, ready for the next passage).
export function backToText(page) {
  const { article } = page.el;
  article.focus({ preventScroll: true });
  if (page.pending) selectPositions(page, page.pending.start, page.pending.end);
}

// Keys anywhere on the page, except while typing in a field.
function pageKey(page, e) {
  const { article, filter } = page.el;
  const t = e.target;
  const typing = t !== article && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (typing) return;
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "z") {
    if (page.undoStack.length) {
      e.preventDefault();
      undo(page);
    }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape") {
    setPending(page, null);
    closeHere(page);
    return;
  }
  if (!page.canCode) return;
  if (e.key === "/") {
    e.preventDefault();
    filter.focus();
    return;
  }
  if (e.key.length !== 1 || e.key === " ") return;
  const key = e.key.toLowerCase();
  const code = [...page.codes.values()].find((c) => c.shortcut === key);
  if (code) {
    e.preventDefault();
    applyCodes(page, [code.id]);
  } else if (page.pending && /\p{L}|\p{N}/u.test(e.key)) {
    // Typing a few letters with a passage selected starts a search.
    e.preventDefault();
    filter.focus();
    filter.value = e.key;
    applyFilterText(page);
  }
}
