// Live updates: other coders' work arrives every few seconds (and when the
// tab comes back into view), without losing the selection in progress.

import { setCodes } from "./codes.js";
import { render } from "./painting.js";

export async function refreshCodes(page) {
  const r = await fetch(`${page.api}/codes`, { credentials: "same-origin" });
  if (r.ok) setCodes(page, (await r.json()).items);
}

// Ask for the document's codings, answered only when they changed since
// the fingerprint last seen. An answer read while one of this page's own
// changes was on its way may be older than that change: it is dropped, and
// the next tick asks again.
async function poll(page) {
  const edits = page.edits;
  const stale = () => page.writing > 0 || page.edits !== edits;
  try {
    const r = await fetch(`${page.api}/documents/${page.initial.document}/codings`, {
      credentials: "same-origin",
      headers: { "If-None-Match": `"${page.fingerprint}"` },
      cache: "no-store",
    });
    if (r.status === 200 && !stale()) {
      const data = await r.json();
      if (stale()) return;
      await refreshCodes(page);
      if (stale()) return;
      page.fingerprint = data.fingerprint;
      page.codings = new Map(data.codings.map((m) => [m.id, m]));
      render(page);
    }
  } catch {
    // Offline for a moment: try again at the next tick.
  }
}

export function startPolling(page) {
  setInterval(() => {
    if (!document.hidden) poll(page);
  }, 4000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll(page);
  });
}
