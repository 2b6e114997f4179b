"""A browser tab for the payment page tests, recording what a visitor would notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fill_card(visitor: Visitor, number: str, name: str = "Somchai Jaidee") -> None:
    page = visitor.page
    page.get_by_label("Name on card").fill(name)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/35")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("E-mail for the receipt (optional)").fill("somchai@example.com")
