"""Where the official contracts live: `contracts/` at the repository root, copied from upstream
with their provenance (see `contracts/README.md`), so that any clone tests completely."""

from __future__ import annotations

from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
CANVAS_KIT = CONTRACTS_DIR / "intercom-canvas-kit-2.11.json"
INTERCOM_API = CONTRACTS_DIR / "intercom-api-2.14.yaml"
STRIPE_FIXTURES = CONTRACTS_DIR / "stripe-fixtures3.json"
