// Talking to the server: applying and removing codes, memos and stars,
// each undoable, with a short message (the toast) saying what happened.

import { refreshCodes } from "./live.js";
import { render } from "./painting.js";
import { button } from "./panel.js";
import { describe } from "./selection.js";

// The undo button, and the document memo saved without a reload.
export function setupActions(page) {
  const { undoButton } = page.el;
  if (undoButton) undoButton.addEventListener("click", () => undo(page));

  const memoForm = document.getElementById("doc-memo-form");
  if (memoForm) {
    memoForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await call(page, "PUT", `/documents/${page.initial.document}/memo`, { memo: memoForm.memo.value });
        say(page, "Document memo saved.");
      } catch (err) {
        say(page, `Memo not saved: ${err.message}`, false, true);
      }
    });
  }
}

// Call the project's JSON API; a signed-out browser is sent to sign in.
// `page.writing` counts the calls on their way and `page.edits` every start
// and end of one, so a poll answered meanwhile knows it may be older than
// what the page now shows (live.js).
async function call(page, method, path, body) {
  page.writing += 1;
  page.edits += 1;
  let response;
  try {
    response = await fetch(`${page.api}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } finally {
    page.writing -= 1;
    page.edits += 1;
  }
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new Error("signed out");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.error) || `the server answered ${response.status}`);
  return data;
}

function asMark(c) {
  return {
    id: c.id,
    code_id: c.code_id,
    coder: c.coder,
    start: c.start,
    end: c.end,
    memo: c.memo,
    starred: c.starred,
    created_at: c.created_at,
  };
}

function say(page, text, undoable, isError) {
  const { toast } = page.el;
  toast.textContent = "";
  toast.append(text);
  toast.classList.toggle("toast-error", Boolean(isError));
  if (undoable) {
    toast.append(" ", button("Undo", "small", () => undo(page)));
  }
  placeToast(page);
  toast.hidden = false;
  clearTimeout(page.toastTimer);
  page.toastTimer = setTimeout(() => (toast.hidden = true), isError ? 8000 : 5000);
}

// Line the message up with the side panel when the panel is beside the
// text, so it never covers the transcript.
function placeToast(page) {
  const { toast, wrap } = page.el;
  const panel = document.getElementById("coding-panel");
  const side = panel && panel.getBoundingClientRect();
  const beside = side && side.left >= wrap.getBoundingClientRect().right;
  toast.classList.toggle("toast-side", Boolean(beside));
  toast.style.left = beside ? `${side.left}px` : "";
  toast.style.width = beside ? `${side.width}px` : "";
}

function pushUndo(page, action) {
  page.undoStack.push(action);
  if (page.undoStack.length > 50) page.undoStack.shift();
  page.el.undoButton.disabled = false;
}

// Apply the codes `ids` to the pending passage.
export async function applyCodes(page, ids) {
  if (!page.canCode) return;
  if (!page.pending) {
    say(page, "Select a passage first.", false, true);
    return;
  }
  const span = page.pending;
  const made = [];
  const errors = [];
  await Promise.all(
    ids.map(async (code_id) => {
      try {
        const c = await call(page, "POST", "/codings", {
          document_id: page.initial.document,
          code_id,
          start: span.start,
          end: span.end,
        });
        if (!page.codings.has(c.id)) made.push(c.id);
        page.codings.set(c.id, asMark(c));
      } catch (e) {
        errors.push(e.message);
      }
    }),
  );
  render(page);
  if (made.length) {
    pushUndo(page, { kind: "create", ids: made });
    const names = ids.map((id) => page.codes.get(id)).filter(Boolean).map((c) => c.name);
    say(page, `Coded ${describe(page, span)} as ${names.join(", ")}.`, true);
  } else if (!errors.length) {
    say(page, "Already coded like this.", false);
  }
  if (errors.length) say(page, `Not saved: ${errors[0]}`, false, true);
}

export async function removeCodings(page, ids, fromUndo) {
  const removed = [];
  for (const id of ids) {
    const m = page.codings.get(id);
    try {
      await call(page, "DELETE", `/codings/${id}`);
      page.codings.delete(id);
      if (m) removed.push(m);
    } catch (e) {
      say(page, `Not removed: ${e.message}`, false, true);
    }
  }
  render(page);
  if (removed.length && !fromUndo) {
    pushUndo(page, { kind: "delete", marks: removed });
    say(page, `Removed ${removed.length === 1 ? "a coding" : `${removed.length} codings`}.`, true);
  }
}

export async function saveMemo(page, id, memo, fromUndo) {
  const before = page.codings.get(id);
  try {
    const c = await call(page, "PATCH", `/codings/${id}`, { memo });
    page.codings.set(id, asMark(c));
    if (!fromUndo && before) pushUndo(page, { kind: "memo", id, memo: before.memo });
    render(page);
    say(page, "Memo saved.", !fromUndo);
  } catch (e) {
    say(page, `Memo not saved: ${e.message}`, false, true);
  }
}

// Star or unstar a coding; answers whether it was saved.
export async function setStar(page, id, starred, fromUndo) {
  try {
    const c = await call(page, "PATCH", `/codings/${id}`, { starred });
    page.codings.set(id, asMark(c));
    if (!fromUndo) pushUndo(page, { kind: "star", id, starred: !starred });
    render(page);
    say(page, starred ? "Starred as an illustrative quote." : "Star removed.", !fromUndo);
    return true;
  } catch (e) {
    say(page, `Not changed: ${e.message}`, false, true);
    return false;
  }
}

// Change a coding's extent (`{start, end}`) or code (`{code_id}`) in
// place: the same coding, so its memo, star, coder and date stay. Answers
// the coding as it now is, or null (with a message) when it was refused.
// Changes run one after another, each from where the last one left the
// coding: `changes` is the fields to set, or a function of the coding as it
// then is that gives them (null: nothing to change). Two quick presses of
// "End a word later" so move the end two words, not one.
export function changeCoding(page, id, changes, fromUndo) {
  const run = () => applyChange(page, id, changes, fromUndo);
  const next = (page.changing || Promise.resolve()).then(run, run);
  page.changing = next;
  return next;
}

async function applyChange(page, id, wanted, fromUndo) {
  const before = page.codings.get(id);
  if (!before) return null;
  const changes = typeof wanted === "function" ? wanted(before) : wanted;
  if (!changes) return null;
  try {
    const c = await call(page, "PATCH", `/codings/${id}`, changes);
    const mark = asMark(c);
    page.codings.set(id, mark);
    if (!fromUndo) {
      const back = {};
      if ("start" in changes) Object.assign(back, { start: before.start, end: before.end });
      if ("code_id" in changes) back.code_id = before.code_id;
      pushUndo(page, { kind: "change", id, changes: back });
    }
    render(page);
    const code = page.codes.get(mark.code_id);
    const text =
      "code_id" in changes && code
        ? `Now coded as ${code.name}; its memo and star are kept.`
        : `The coding now covers ${describe(page, mark)}.`;
    say(page, text, !fromUndo);
    return mark;
  } catch (e) {
    say(page, `Not changed: ${e.message}`, false, true);
    return null;
  }
}

export async function undo(page) {
  const action = page.undoStack.pop();
  page.el.undoButton.disabled = page.undoStack.length === 0;
  if (!action) return;
  if (action.kind === "create") {
    await removeCodings(
      page,
      action.ids.filter((id) => page.codings.has(id)),
      true,
    );
    say(page, "Undone: the coding was removed.");
  } else if (action.kind === "delete") {
    for (const m of action.marks) {
      try {
        const c = await call(page, "POST", "/codings", {
          document_id: page.initial.document,
          code_id: m.code_id,
          start: m.start,
          end: m.end,
          memo: m.memo,
        });
        let mark = asMark(c);
        if (m.starred) mark = asMark(await call(page, "PATCH", `/codings/${c.id}`, { starred: true }));
        page.codings.set(c.id, mark);
      } catch (e) {
        say(page, `Could not put it back: ${e.message}`, false, true);
      }
    }
    render(page);
    say(page, "Undone: the coding is back.");
  } else if (action.kind === "memo") {
    await saveMemo(page, action.id, action.memo, true);
  } else if (action.kind === "star") {
    await setStar(page, action.id, action.starred, true);
  } else if (action.kind === "change") {
    await changeCoding(page, action.id, action.changes, true);
  }
}

// Create a code named `name`; its id, or null (with a message) on failure.
export async function createCode(page, name) {
  try {
    const c = await call(page, "POST", "/codes", { name });
    await refreshCodes(page);
    return c.id;
  } catch (e) {
    say(page, `Code not created: ${e.message}`, false, true);
    return null;
  }
}
