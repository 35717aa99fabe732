// The accounts page: show a new set-password link as a full address (the
// server knows only its path), and copy it with one click.
for (const input of document.querySelectorAll("input[data-absolute]")) {
  input.value = new URL(input.value, location.origin).href;
  input.addEventListener("focus", () => input.select());
}
for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copy);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      document.execCommand("copy");
      button.textContent = "Copied";
    }
  });
}
