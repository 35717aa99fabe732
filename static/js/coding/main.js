// The coding page: select a passage, apply codes, see codings as coloured
// highlights and margin stripes, open the codings under a point, undo, and
// see other coders' work arrive without losing your selection.
//
//   positions.js  code points ↔ DOM positions over the text's stretches
//   selection.js  the text kept intact, and the selected passage
//   painting.js   filters, highlights and margin stripes
//   panel.js      the "codings here" panel: memo, star, remove
//   codes.js      the code list, its search box, and the page's keys
//   actions.js    saving to the server, undo, messages
//   live.js       other coders' work, polled
//   place.js      where you were in each document: scroll and caret
//   handles.js    drag a coding's ends with the mouse
//   speakers.js   the speaker menus of a big project, filled from one list
//
// Every module works on one `page` object: the page's elements, what the
// server sent, and what has changed since.

import { setupActions } from "./actions.js";
import { setCodes, setupCodeList, updateChecked } from "./codes.js";
import { startPolling } from "./live.js";
import { keepPlace } from "./place.js";
import { flash, render, setupPainting } from "./painting.js";
import { setupPanel, showHere } from "./panel.js";
import { indexChunks, rangeFor } from "./positions.js";
import { guardText, selectPositions, watchSelection } from "./selection.js";
import { fillSpeakerMenus } from "./speakers.js";

fillSpeakerMenus();
const stateEl = document.getElementById("coding-state");
const article = document.getElementById("transcript");
if (stateEl && article) start(JSON.parse(stateEl.textContent), article);

function start(initial, article) {
  const byId = (id) => document.getElementById(id);
  const page = {
    initial,
    api: `/api/v1/projects/${initial.project}`,
    me: initial.me,
    canCode: initial.can_code,
    isOwner: initial.is_owner,
    coders: new Map(initial.coders.map((c) => [c.id, c.name])),
    el: {
      article,
      wrap: byId("transcript-wrap"),
      stripes: byId("stripes"),
      list: byId("code-list"),
      filter: byId("code-filter"),
      status: byId("selection-status"),
      applyChecked: byId("apply-checked"),
      undoButton: byId("undo"),
      snap: byId("snap"),
      here: byId("here"),
      hereList: byId("here-list"),
      filterCoder: byId("filter-coder"),
      filterCode: byId("filter-code"),
      count: byId("coding-count"),
      toast: byId("toast"),
      legend: byId("legend"),
      legendEmpty: byId("legend-empty"),
      skip: byId("skip-transcript"),
    },
    chunks: indexChunks(article), // the text's stretches (positions.js)
    codes: new Map(), // id -> code
    codeOrder: [], // ids in tree order
    codings: new Map(), // id -> mark
    fingerprint: initial.fingerprint, // of the codings last seen
    pending: null, // {start, end} of the selection to code
    hereAt: null, // position whose codings the "here" panel lists
    active: -1, // index of the highlighted code while searching
    undoStack: [],
    changing: null, // the last change to a coding, which the next waits for
    writing: 0, // this page's calls on their way to the server
    edits: 0, // counts every start and end of one (live.js)
    sheet: null, // the highlight styles
    toastTimer: 0,
  };

  guardText(page);
  setupPainting(page);
  watchSelection(page);
  setupPanel(page);
  setupActions(page);
  setupCodeList(page);
  startPolling(page);

  setCodes(page, initial.codes);
  page.codings = new Map(initial.codings.map((m) => [m.id, m]));
  render(page);
  updateChecked(page);

  // `#coding-12`: scroll to that coding and show it; `#at-120-134` (a
  // search hit): scroll there and select it, ready to code; otherwise go
  // back to where this document was left.
  const hash = /^#coding-(\d+)$/.exec(location.hash);
  const at = /^#at-(\d+)-(\d+)$/.exec(location.hash);
  keepPlace(page, !hash && !at);
  if (at) {
    const [start, end] = [Number(at[1]), Number(at[2])];
    const r = end > start && rangeFor(page.chunks, start, end);
    if (r) {
      const box = r.getBoundingClientRect();
      window.scrollTo({ top: window.scrollY + box.top - window.innerHeight / 3 });
      flash(r);
      selectPositions(page, start, end);
    }
  }
  if (hash) {
    const m = page.codings.get(Number(hash[1]));
    const r = m && rangeFor(page.chunks, m.start, m.end);
    if (r) {
      const box = r.getBoundingClientRect();
      window.scrollTo({ top: window.scrollY + box.top - window.innerHeight / 3 });
      flash(r);
      showHere(page, m.start, false, m.id);
    }
  }
}
