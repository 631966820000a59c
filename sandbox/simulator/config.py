"""What the simulator talks to: our app (signed Canvas Kit calls) and, optionally, the sandboxes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sandbox.contracts import CANVAS_KIT

# The official Canvas Kit schemas travel with the repository (contracts/).
DEFAULT_CONTRACT_PATH = CANVAS_KIT


@dataclass(frozen=True)
class SimulatorConfig:
    """`app_url`: our app's base URL. `client_secret`: the Intercom client secret the simulator
    signs with (it never reaches the browser). `intercom_url` + `intercom_token`: the sandbox
    Intercom, for the demo conversations and what the app wrote there; without it the seeded demo
    contacts are used. `stripe_url`: the sandbox Stripe, for its control API (settle SEPA)."""

    app_url: str
    client_secret: str
    intercom_url: str | None = None
    intercom_token: str | None = None
    stripe_url: str | None = None
    contract_path: Path | None = field(default=DEFAULT_CONTRACT_PATH)
    # Intercom gives up on a slow app after about 10 s; so does the simulator.
    request_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("app_url", "intercom_url", "stripe_url"):
            value = getattr(self, name)
            if value is not None:
                if not value.startswith(("http://", "https://")):
                    raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
                object.__setattr__(self, name, value.rstrip("/"))
        if not self.client_secret:
            raise ValueError("client_secret is required: the app rejects unsigned requests")
