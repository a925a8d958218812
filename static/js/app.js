// Small behaviours shared by every page; no inline scripts so a strict CSP stays possible.
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) {
    event.target.form.submit();
  }
});

// A "Copy" button copies the field it names; the field is selected too, for a manual copy where the
// clipboard is not available (a page not served over HTTPS).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const field = document.querySelector(button.dataset.copy);
  field.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(() => {
      button.textContent = button.dataset.copiedLabel;
    });
  }
});
