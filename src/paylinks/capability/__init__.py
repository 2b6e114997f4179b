"""The capability object (`GET /capability`): what a browser page or an SDK may offer the payer."""
