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

// A form posted with a page load is sent once: its submit buttons are disabled once it is on its way, so
// a second click does not record a decision or a finding twice. After the submit event, so that the
// clicked button's own name and value are still sent; htmx forms (results swapped in place) are left
// alone, and a page restored by the back button gets its buttons back.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method !== "post" || form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) {
    return;
  }
  setTimeout(() => {
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach((button) => {
      button.disabled = true;
    });
  }, 0);
});

window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    document.querySelectorAll("form button[type=submit][disabled], form input[type=submit][disabled]").forEach((button) => {
      button.disabled = false;
    });
  }
});
