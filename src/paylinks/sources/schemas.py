"""The source wire format."""

from __future__ import annotations

from typing import Any

from paylinks.clock import format_time
from paylinks.sources.service import Source


def source_to_wire(
    source: Source, *, public_url: str, charge_status: str = "unknown"
) -> dict[str, Any]:
    qr = f"{public_url}/sources/{source.id}/qr"
    image = {"download_uri": f"{qr}.svg", "png_uri": f"{qr}.png"}
    if source.image_uri is not None:  # live: the QR Omise made, where Omise serves it
        image = {"download_uri": source.image_uri}
    return {
        "object": "source",
        "id": source.id,
        "livemode": source.livemode,
        "location": f"/sources/{source.id}",
        "type": source.type,
        "flow": "offline",
        "amount": source.amount,
        "currency": source.currency,
        "charge_status": charge_status,
        "scannable_code": {
            "object": "barcode",
            "type": "qr",
            "raw_data": source.payload or None,
            "image": {"object": "document", "filename": "qrcode.svg", "kind": "qr", **image},
        },
        "created_at": format_time(source.created_at),
    }
