"""Debian's Chromium as the simulator's browser tests and the screenshot script launch it:
headless, and with nothing that phones home (this machine has no network beyond loopback)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# The sandbox flag because CI runs as root; the rest keep Chromium off the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
