// Expand and collapse the code tree in the matrix; the state survives
// reloads of the same project in this browser.
const table = document.getElementById("matrix");
if (table) {
  const rows = [...table.tBodies[0].rows];
  const key = `parley-matrix-collapsed-${location.pathname}`;
  const collapsed = new Set(JSON.parse(localStorage.getItem(key) || "[]"));

  function hiddenByAncestor(row) {
    let parent = row.dataset.parent;
    while (parent) {
      if (collapsed.has(parent)) return true;
      const p = rows.find((r) => r.dataset.code === parent);
      parent = p ? p.dataset.parent : "";
    }
    return false;
  }

  function apply() {
    for (const row of rows) {
      row.hidden = hiddenByAncestor(row);
      const t = row.querySelector(".twisty");
      if (t) {
        const open = !collapsed.has(row.dataset.code);
        t.setAttribute("aria-expanded", String(open));
        t.textContent = open ? "▾" : "▸";
        t.setAttribute("aria-label", `${open ? "Collapse" : "Expand"} ${row.querySelector("a").textContent}`);
      }
    }
    localStorage.setItem(key, JSON.stringify([...collapsed]));
  }

  table.addEventListener("click", (e) => {
    const t = e.target.closest(".twisty");
    if (t) {
      const code = t.closest("tr").dataset.code;
      if (collapsed.has(code)) collapsed.delete(code);
      else collapsed.add(code);
      apply();
      return;
    }
    const b = e.target.closest("[data-expand]");
    if (b) {
      collapsed.clear();
      if (b.dataset.expand === "none") {
        for (const row of rows) if (row.querySelector(".twisty")) collapsed.add(row.dataset.code);
      }
      apply();
    }
  });
  apply();
}
