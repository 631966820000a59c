"""One Canvas Kit round trip, played as Intercom: sign the request with the client secret, POST it
to the app, check the answer against the contract, and describe all of it for the page."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.canvas_requests import signed

from .config import SimulatorConfig
from .contract import CanvasContract, ContractReport
from .rendering import render_content

MAX_SHOWN_TEXT = 4000


@dataclass
class Exchange:
    """A request the simulator sent as Intercom and what came back."""

    flow: str
    url: str
    request: dict[str, Any]
    signature: str
    status: int | None = None
    elapsed_ms: int = 0
    response: Any = None
    response_text: str | None = None
    error: str | None = None
    contract: ContractReport | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and isinstance(self.response, dict)

    def as_json(self, *, surface: str) -> dict[str, Any]:
        """What the page gets: the exchange for the traffic panel plus what to draw."""
        body = self.response if self.ok else {}
        canvas = body.get("canvas") if isinstance(body.get("canvas"), dict) else None
        content = canvas.get("content") if canvas else body.get("content")
        return {
            "flow": self.flow,
            "url": self.url,
            "request": self.request,
            "request_headers": {
                "Content-Type": "application/json",
                "X-Body-Signature": self.signature,
            },
            "status": self.status,
            "elapsed_ms": self.elapsed_ms,
            "response": self.response,
            "response_text": self.response_text,
            "error": self.error or self._status_problem(),
            "contract": self.contract.as_json() if self.contract else None,
            "contract_errors": self.contract.errors if self.contract else [],
            "canvas": canvas,
            "content": content if isinstance(content, dict) else None,
            "content_url": canvas.get("content_url") if canvas else None,
            "card_creation_options": body.get("card_creation_options"),
            "results": body.get("results"),
            "event": body.get("event"),
            "html": render_content(content, surface=surface) if content is not None else None,
        }

    def _status_problem(self) -> str | None:
        if self.status is None or self.ok:
            return None
        if self.status == 200:
            return "The app answered 200 without a JSON object: Intercom would show an error."
        return f"The app answered {self.status}: Intercom would show the app as failed to load."


class IntercomPlayer:
    """Sends Canvas Kit requests to the app exactly as Intercom does."""

    def __init__(
        self, config: SimulatorConfig, http: httpx.AsyncClient, contract: CanvasContract
    ) -> None:
        self.config = config
        self.http = http
        self.contract = contract

    def app_url(self, path: str) -> str:
        return f"{self.config.app_url}{path}"

    def on_app_origin(self, url: str) -> bool:
        """Signed requests go only to the app (a live canvas `content_url` must point there)."""
        wanted, given = urlsplit(self.config.app_url), urlsplit(url)
        return (given.scheme, given.netloc) == (wanted.scheme, wanted.netloc)

    async def send(
        self, flow: str, url: str, payload: dict[str, Any], *, schema: str, surface: str
    ) -> Exchange:
        body, headers = signed(payload, self.config.client_secret)
        exchange = Exchange(
            flow=flow, url=url, request=payload, signature=headers["X-Body-Signature"]
        )
        started = time.monotonic()
        try:
            response = await self.http.post(
                url, content=body, headers=headers, timeout=self.config.request_timeout_seconds
            )
        except httpx.TimeoutException:
            exchange.error = (
                f"No answer within {self.config.request_timeout_seconds:g} s: "
                "Intercom would give up and show the app as failed to load."
            )
            return exchange
        except httpx.HTTPError as exc:
            exchange.error = f"Could not reach the app at {url}: {exc}"
            return exchange
        finally:
            exchange.elapsed_ms = round((time.monotonic() - started) * 1000)
        exchange.status = response.status_code
        try:
            exchange.response = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            exchange.response_text = response.text[:MAX_SHOWN_TEXT]
        if exchange.status == 200 and exchange.response is not None:
            exchange.contract = self.contract.check(schema, exchange.response, surface=surface)
        return exchange

    def refused(self, flow: str, url: str, payload: dict[str, Any], reason: str) -> Exchange:
        """A request the simulator would not send (shown in the panel like any other)."""
        body, headers = signed(payload, self.config.client_secret)
        return Exchange(
            flow=flow,
            url=url,
            request=payload,
            signature=headers["X-Body-Signature"],
            error=reason,
        )
