// Live updates: other coders' work arrives every few seconds (and when the
// tab comes back into view), without losing the selection in progress.

import { setCodes } from "./codes.js";
import { render } from "./painting.js";

export async function refreshCodes(page) {
  const r = await fetch(`${page.api}/codes`, { credentials: "same-origin" });
  if (r.ok) setCodes(page, (await r.json()).items);
}

// Ask for the document's codings, answered only when they changed since
// the fingerprint last seen.
async function poll(page) {
  try {
    const r = await fetch(`${page.api}/documents/${page.initial.document}/codings`, {
      credentials: "same-origin",
      headers: { "If-None-Match": `"${page.fingerprint}"` },
      cache: "no-store",
    });
    if (r.status === 200) {
      const data = await r.json();
      page.fingerprint = data.fingerprint;
      await refreshCodes(page);
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
