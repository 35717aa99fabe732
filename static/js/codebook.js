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
