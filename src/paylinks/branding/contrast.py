"""Brand colours that stay readable (WCAG 2.x contrast). The brand colour fills the pay button,
with white or near-black text, whichever contrasts more; a colour for which neither reaches
4.5:1 (the AA level for normal text) is refused, with the reason. Links and outlined buttons
use the brand colour as text on white only when that is readable too."""

from __future__ import annotations

import re
from dataclasses import dataclass

AA = 4.5
WHITE, INK = "#ffffff", "#111111"
DEFAULT_ACCENT = "#1f5fbf"
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def luminance(color: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _darker(color: str, factor: float = 0.85) -> str:
    return "#" + "".join(f"{int(int(color[i : i + 2], 16) * factor):02x}" for i in (1, 3, 5))


@dataclass(frozen=True)
class Palette:
    accent: str  # the pay button's background
    accent_dark: str  # its hover
    accent_ink: str  # the text on it
    accent_text: str  # links and outlined buttons, on white


def palette(color: str) -> Palette:
    """The page's colours from a brand colour; ValueError when it would not be readable."""
    if not _HEX.fullmatch(color):
        raise ValueError("write the brand colour as #rrggbb, such as #1f5fbf")
    color = color.lower()
    ink = max((WHITE, INK), key=lambda text: contrast(color, text))
    ratio = contrast(color, ink)
    if ratio < AA:
        raise ValueError(
            f"{color} is too mid-toned for readable button text (best {ratio:.2f}:1 with "
            f"{'white' if ink == WHITE else 'black'}; at least {AA}:1 is needed): choose a "
            "darker or a lighter shade"
        )
    text = color if contrast(color, WHITE) >= AA else DEFAULT_ACCENT
    return Palette(color, _darker(color), ink, text)
