// The A4 notice's print button. A file, not an inline handler: the pages run under script-src 'self'.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
