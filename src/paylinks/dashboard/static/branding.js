// The branding page's live preview: the colour picker and the text field follow each other,
// and the preview takes the colour and the name as they are typed (CSSOM, which the page's
// CSP allows; no inline style attribute is written). The server still checks everything.
"use strict";

(() => {
  const picker = document.getElementById("brand_color_picker");
  const text = document.getElementById("brand_color");
  const name = document.getElementById("display_name");
  const preview = document.getElementById("brand-preview");
  const shownName = document.getElementById("preview-name");
  if (!picker || !text || !preview) return;

  const luminance = (hex) => {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const apply = (hex) => {
    if (!/^#[0-9a-fA-F]{6}$/.test(hex)) return;
    const ink = contrast(hex, "#ffffff") >= contrast(hex, "#111111") ? "#ffffff" : "#111111";
    preview.style.setProperty("--accent", hex);
    preview.style.setProperty("--accent-ink", ink);
  };
  picker.addEventListener("input", () => { text.value = picker.value; apply(picker.value); });
  text.addEventListener("input", () => {
    if (/^#[0-9a-fA-F]{6}$/.test(text.value)) picker.value = text.value;
    apply(text.value);
  });
  if (name && shownName) {
    name.addEventListener("input", () => { shownName.textContent = name.value || shownName.dataset.fallback || ""; });
  }
})();
