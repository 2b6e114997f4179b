// The branding page's preview is the payment page itself, in a frame (page_preview.py): as the
// name, the colour or the support e-mail is typed, the frame is asked again with them (after a
// pause in typing). The colour picker and the text field follow each other. Nothing is saved
// until the form is; the server checks everything.
"use strict";

(() => {
  const form = document.getElementById("branding-form");
  const picker = document.getElementById("brand_color_picker");
  const text = document.getElementById("brand_color");
  const frame = document.getElementById("brand-preview");
  if (!form || !picker || !text || !frame) return;

  let waiting = null;
  const refresh = () => {
    clearTimeout(waiting);
    waiting = setTimeout(() => {
      const asked = new URLSearchParams();
      ["display_name", "brand_color", "support_email"].forEach((name) => {
        asked.set(name, form.elements.namedItem(name).value);
      });
      frame.src = "/dashboard/branding/preview?" + asked.toString();
    }, 400);
  };
  picker.addEventListener("input", () => { text.value = picker.value; refresh(); });
  text.addEventListener("input", () => {
    if (/^#[0-9a-fA-F]{6}$/.test(text.value)) picker.value = text.value;
    refresh();
  });
  ["display_name", "support_email"].forEach((name) => {
    form.elements.namedItem(name).addEventListener("input", refresh);
  });
})();
