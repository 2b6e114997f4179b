// The links pages' enhancements; every page works without them (the URL stays on the page,
// the amount bounds stay enabled and the server ignores them for a fixed amount, the form has
// empty metadata rows to fill).
"use strict";

// Copy (<button data-copy-link="url">) and share (<button data-share-link="url">), shown only
// here: without the script they would do nothing. The share sheet only where there is one.
for (const button of document.querySelectorAll("[data-copy-link]")) button.hidden = false;
if (navigator.share) {
  for (const button of document.querySelectorAll("[data-share-link]")) button.hidden = false;
}

function announce(button, message) {
  const status = button.closest(".share-actions").querySelector("[data-share-status]");
  if (status) status.textContent = message;
}

function copied(button) {
  const label = button.querySelector(".share-label");
  button.dataset.state = "copied";
  label.textContent = "Copied";
  announce(button, "Copied the payment link");
  setTimeout(() => {
    delete button.dataset.state;
    label.textContent = "Copy";
  }, 2000);
}

// Where the clipboard is refused (a page served over plain HTTP has none), the URL is
// selected instead, for the keyboard's copy.
function selectUrl(button) {
  const url = button.closest("td, .share").querySelector(".pay-url");
  if (!url) return;
  if (url.select) {
    url.focus();
    url.select();
  } else {
    window.getSelection().selectAllChildren(url);
  }
  announce(button, "The link is selected: copy it with your keyboard");
}

document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy-link]");
  if (copy) {
    const text = copy.dataset.copyLink;
    if (!navigator.clipboard) return selectUrl(copy);
    navigator.clipboard.writeText(text).then(() => copied(copy), () => selectUrl(copy));
    return;
  }
  const share = event.target.closest("[data-share-link]");
  if (share) {
    // A closed share sheet rejects with AbortError: nothing to say.
    navigator.share({ title: share.dataset.shareTitle, url: share.dataset.shareLink })
      .catch(() => {});
  }
});

// The amount bounds apply only when the customer decides the amount.
const bounds = document.querySelectorAll("[data-customer-only]");
function followAmountType() {
  const customer = document.querySelector("input[name=amount_type][value=customer]");
  for (const input of bounds) input.disabled = !(customer && customer.checked);
}
if (bounds.length) {
  for (const radio of document.querySelectorAll("input[name=amount_type]")) {
    radio.addEventListener("change", followAmountType);
  }
  followAmountType();
}

// Metadata rows: "Add a row" copies the last row, empty, with the next number.
for (const rows of document.querySelectorAll("[data-meta-rows]")) {
  const add = rows.querySelector("[data-add-row]");
  add.hidden = false;
  add.addEventListener("click", () => {
    const all = rows.querySelectorAll(".meta-row");
    const last = all[all.length - 1];
    const row = last.cloneNode(true);
    const n = all.length;
    row.classList.remove("json");
    for (const hidden of row.querySelectorAll("input[type=hidden]")) hidden.remove();
    for (const label of row.querySelectorAll("label")) {
      const part = label.htmlFor.startsWith("meta_key_") ? "key" : "value";
      label.htmlFor = `meta_${part}_${n}`;
      label.textContent = `${part === "key" ? "Key" : "Value"} ${n + 1}`;
    }
    for (const input of row.querySelectorAll("input")) {
      const part = input.name.startsWith("meta_key_") ? "key" : "value";
      input.id = input.name = `meta_${part}_${n}`;
      input.value = "";
      input.placeholder = part;
    }
    last.after(row);
    row.querySelector("input").focus();
  });
}
