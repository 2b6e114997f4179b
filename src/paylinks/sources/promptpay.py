"""PromptPay QR payloads (EMVCo merchant-presented mode, as Thai banking apps read them)."""

from __future__ import annotations

import io

import segno

PROMPTPAY_AID = "A000000677010111"
TEST_PROMPTPAY_ID = "0812345678"  # a dummy phone number for test-mode accounts without one


def _field(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as EMVCo specifies for tag 63."""
    crc = 0xFFFF
    for byte in data.encode("ascii"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _proxy(promptpay_id: str) -> str:
    """Tag 29's proxy: a phone (0066 + national number), a 13-digit tax id, or an e-wallet id."""
    digits = "".join(ch for ch in promptpay_id if ch.isdigit())
    if len(digits) == 13:
        return _field("02", digits)
    if len(digits) == 15:
        return _field("03", digits)
    if len(digits) == 10 and digits.startswith("0"):
        return _field("01", "0066" + digits[1:])
    raise ValueError(
        "a PromptPay ID is a 10-digit phone number, a 13-digit tax id or an e-wallet id"
    )


def payload(promptpay_id: str, *, amount_satang: int) -> str:
    """The QR text for paying `amount_satang` to `promptpay_id` (one-time, amount fixed)."""
    body = (
        _field("00", "01")
        + _field("01", "12")
        + _field("29", _field("00", PROMPTPAY_AID) + _proxy(promptpay_id))
        + _field("53", "764")
        + _field("54", f"{amount_satang // 100}.{amount_satang % 100:02d}")
        + _field("58", "TH")
        + "6304"
    )
    return body + crc16_ccitt(body)


def qr_svg(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return buffer.getvalue()


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()
