// Small helpers for the codebook pages: a print button, and a confirmation
// for forms that carry `data-confirm` (the server asks again where it
// matters; this only saves a round trip).
for (const b of document.querySelectorAll("[data-print]")) {
  b.addEventListener("click", () => window.print());
}
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (e) => {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
}

// Drag a code onto another to move it under that code, or onto the
// "top level" strip to move it to the top. The move menu on each code's
// page does the same without a mouse.
const tree = document.querySelector(".codebook[data-project]");
if (tree) {
  const project = tree.dataset.project;
  let dragged = null;
  const top = document.getElementById("drop-top");
  for (const li of tree.querySelectorAll(".code-entry[draggable]")) {
    li.addEventListener("dragstart", (e) => {
      dragged = li;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", li.dataset.code);
      li.classList.add("dragging");
      if (top) top.hidden = false;
    });
    li.addEventListener("dragend", () => {
      li.classList.remove("dragging");
      dragged = null;
      if (top) top.hidden = true;
    });
  }
  const targets = [...tree.querySelectorAll(".code-line"), ...(top ? [top] : [])];
  for (const target of targets) {
    target.addEventListener("dragover", (e) => {
      const entry = target.closest(".code-entry");
      if (!dragged || (entry && dragged.contains(entry))) return;
      e.preventDefault();
      target.classList.add("drop-here");
    });
    target.addEventListener("dragleave", () => target.classList.remove("drop-here"));
    target.addEventListener("drop", async (e) => {
      e.preventDefault();
      target.classList.remove("drop-here");
      if (!dragged) return;
      const entry = target.closest(".code-entry");
      const parent = entry ? Number(entry.dataset.code) : null;
      const response = await fetch(`/api/v1/projects/${project}/codes/${dragged.dataset.code}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ parent_id: parent }),
        credentials: "same-origin",
      });
      if (response.ok) {
        location.reload();
      } else {
        const data = await response.json().catch(() => ({}));
        window.alert(data.error || `The code was not moved (${response.status}).`);
      }
    });
  }
}
