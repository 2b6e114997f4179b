"""A browser tab for the payment page tests, recording what a visitor would notice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# axe-core, from the tests' npm packages (`make test` installs them).
AXE = Path(__file__).resolve().parents[1] / "compat/node/node_modules/axe-core/axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
# What the page's first load took over the wire (headers and compression included), and when it
# first painted: recorded, never asserted on time.
FIRST_LOAD = """() => {
  const page = performance.getEntriesByType("navigation")[0];
  const files = performance.getEntriesByType("resource");
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    total_bytes: files.reduce((sum, file) => sum + file.transferSize, page.transferSize),
    files: Object.fromEntries([["page", page.transferSize], ...files.map(
      file => [file.name.split("/").pop(), file.transferSize])]),
    first_contentful_paint_ms: paint ? Math.round(paint.startTime) : null,
  };
}"""

_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))"""


class Visitor:
    """A fresh browser tab that records dialogs and console errors."""

    def __init__(self, browser: Any, *, width: int, height: int) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("console", self._on_console)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error":  # CSP or SRI refusals show up here
            self.console_errors.append(message.text)

    def screenshot(self, name: str, *, audit: bool = True) -> None:
        """The page as it is now, saved to test-artifacts/, after axe-core has checked it (every
        state a test looks at is one a customer or a merchant may be in)."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if audit:
            self.audit(name)

    def record(self, name: str, measured: dict[str, Any]) -> None:
        """Numbers a test measured (fold positions, weights), kept beside the screenshots in
        test-artifacts/NAME.json for the people reading a run."""
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(measured, indent=1) + "\n")

    def audit(self, name: str) -> None:
        """axe-core on the page as it is now: a serious or critical violation fails the test;
        every finding is saved beside the screenshot (test-artifacts/axe-NAME.json)."""
        # DevTools evaluation, not a <script>: the page's CSP allows no injected script.
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text() + "\n;true")
        violations = self.page.evaluate(_VIOLATIONS)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=1) + "\n")
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, f"axe-core on {name}: {failing}"


def choose_card(visitor: Visitor) -> None:
    """Pay by card where the page offers a choice (PromptPay comes first for baht)."""
    choice = visitor.page.locator("#method-card")
    if choice.count():
        choice.check()


def assert_above_the_fold(visitor: Visitor, name: str) -> None:
    """Both ways to pay end on the first screen: PromptPay's button as the page opens (first for
    baht), then the card's pay button once the card is chosen. The positions are recorded in
    test-artifacts/NAME.json."""
    bottom = "id => Math.round(document.getElementById(id).getBoundingClientRect().bottom)"
    measured = {"promptpay_button_bottom": visitor.page.evaluate(bottom, "promptpay-button")}
    choose_card(visitor)
    measured["pay_button_bottom"] = visitor.page.evaluate(bottom, "pay-button")
    visitor.record(name, {**measured, "viewport_height": visitor.page.viewport_size["height"]})
    assert max(measured.values()) <= visitor.page.viewport_size["height"], (name, measured)


def fill_card(visitor: Visitor, number: str, name: str = "Somchai Jaidee") -> None:
    page = visitor.page
    choose_card(visitor)
    page.get_by_label("Name on card").fill(name)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/35")
    page.get_by_label("Security code").fill("123")
