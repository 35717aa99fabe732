// Upload many transcripts with progress: each file goes to the JSON API in
// its own request, so one bad file fails alone and each result shows as it
// finishes. Without JavaScript the form posts all files at once.
const form = document.getElementById("upload-form");
const box = document.getElementById("upload-progress");

if (form && box && window.fetch && window.FormData) {
  const input = form.querySelector('input[type="file"]');
  const bar = box.querySelector("progress");
  const status = document.getElementById("upload-status");
  const list = box.querySelector(".upload-results");
  const zone = document.getElementById("dropzone");

  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", async (event) => {
    const files = Array.from(input.files || []);
    if (files.length === 0) return;
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    box.hidden = false;
    list.replaceChildren();
    bar.max = files.length;
    bar.value = 0;
    let ok = 0;
    for (const [i, file] of files.entries()) {
      status.textContent = `Uploading ${i + 1} of ${files.length}: ${file.name}`;
      const item = document.createElement("li");
      const copies = form.elements.copies && form.elements.copies.checked;
      if (await send(file, item, copies)) ok += 1;
      list.append(item);
      bar.value = i + 1;
    }
    status.textContent = `${ok} of ${files.length} imported.`;
    button.disabled = false;
    if (ok > 0) await refreshList();
    form.reset();
  });
}

// Upload one file and say how it went in `item`; answers whether it was
// imported. A file identical to a document already in the project is
// not added: the item asks, with a button that adds a copy anyway.
async function send(file, item, copies) {
  const data = new FormData();
  data.append("file", file, file.name);
  for (const name of ["kind", "participant"]) {
    const value = form.elements[name] && form.elements[name].value;
    if (value) data.append(name, value);
  }
  if (copies) data.append("copies", "true");
  try {
    const res = await fetch(form.dataset.api, { method: "POST", body: data, credentials: "same-origin" });
    const body = await res.json().catch(() => ({}));
    if (res.status === 201 && body.documents && body.documents.length) {
      const doc = body.documents[0];
      item.className = "ok";
      item.textContent = `${file.name}: ${doc.turn_count} turns, ${doc.speaker_count} speakers`;
      return true;
    }
    item.className = "error";
    const first = body.errors && body.errors[0];
    const why = (first && first.error) || body.error || res.statusText;
    item.textContent = `${file.name}: ${why}`;
    if (first && first.status === 409 && !copies) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "small";
      again.textContent = "Add a copy anyway";
      again.addEventListener("click", async () => {
        again.disabled = true;
        if (await send(file, item, true)) await refreshList();
      });
      item.append(" ", again);
    }
  } catch (err) {
    item.className = "error";
    item.textContent = `${file.name}: the upload failed (${err.message})`;
  }
  return false;
}

// Bring the list of documents up to date (after an upload) from the page
// itself, so it shows the new documents without a reload.
async function refreshList() {
  const section = document.querySelector('section[aria-labelledby="docs-h"]');
  if (!section) return;
  try {
    const res = await fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) throw new Error(res.statusText);
    const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
    const next = fresh.querySelector('section[aria-labelledby="docs-h"]');
    if (!next) throw new Error("no list");
    section.replaceChildren(...next.childNodes);
    const count = document.querySelector(".page-head .muted");
    const freshCount = fresh.querySelector(".page-head .muted");
    if (count && freshCount) count.textContent = freshCount.textContent;
  } catch {
    const status = document.getElementById("upload-status");
    const reload = document.createElement("a");
    reload.href = window.location.pathname;
    reload.className = "button small";
    reload.textContent = "Show the documents";
    if (status) status.append(" ", reload);
  }
}
