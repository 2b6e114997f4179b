"""What every example shares: where the server is and which keys to use, from the environment
(PAYLINKS_API_URL, PAYLINKS_SECRET_KEY, PAYLINKS_PUBLIC_KEY), and the two lines that point the
official `omise` SDK at paylinks."""

from __future__ import annotations

import os

import omise

API_URL = os.environ.get("PAYLINKS_API_URL", "http://127.0.0.1:8000")
SECRET_KEY = os.environ["PAYLINKS_SECRET_KEY"]
PUBLIC_KEY = os.environ.get("PAYLINKS_PUBLIC_KEY", "")


def use_paylinks() -> None:
    """Point the official Omise SDK at paylinks: these two lines (and your keys) are all."""
    omise.api_main = API_URL
    omise.api_vault = API_URL  # paylinks serves tokens from the same address
    omise.api_secret = SECRET_KEY
    omise.api_public = PUBLIC_KEY
