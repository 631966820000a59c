"""Webhook endpoints and asynchronous, signed, retried delivery of events.

Events are delivered in emission order by one worker (so per-object order holds); a failed
delivery is retried on its own timer (1 s, 2 s, 4 s by default) without blocking the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

import httpx
import stripe

from sandbox.serving import tls_context


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """``Stripe-Signature`` header value, computed by the SDK's own helper."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


class WebhookDispatcher:
    """Holds endpoints, queues events and delivers them from the server's event loop."""

    def __init__(
        self, *, delay_seconds: float = 0.05, retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    ) -> None:
        self.endpoints: list[dict[str, str]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.delay_seconds = delay_seconds
        self.retry_delays = retry_delays
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._generation = 0  # bumped by forget(): deliveries of an older one are dropped
        self._posting = 0  # deliveries being posted right now (on the server's loop)
        self._idle: asyncio.Event | None = None  # set while none is

    async def forget(self, wait_seconds: float = 6.0) -> None:
        """Drop every endpoint and every delivery not made yet, queued or waiting to be retried,
        and wait (bounded) for those being posted right now: events of before reach no
        endpoint of after, and what they caused is done before anything after starts.
        Called on the server's loop (the control API)."""
        with self._lock:
            self.endpoints = []
            self._pending.clear()
            self._generation += 1
        if self._idle is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), wait_seconds)

    def add_endpoint(self, url: str, secret: str) -> dict[str, str]:
        """Register a receiver; every later event is posted to it."""
        ep = {"id": f"we_sandbox{len(self.endpoints) + 1}", "url": url, "secret": secret}
        self.endpoints.append(ep)
        return ep

    def enqueue(self, event: dict[str, Any]) -> None:
        """Queue an event (callable from any thread)."""
        if not self.endpoints:
            return
        payload = json.dumps(event, indent=2)
        with self._lock:
            self._pending.append(
                {
                    "event": event,
                    "payload": payload,
                    "endpoints": list(self.endpoints),
                    "generation": self._generation,
                }
            )
        self._notify()

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def start(self) -> None:
        """Start the delivery worker on the running loop (server lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._client = httpx.AsyncClient(timeout=5.0, verify=tls_context())
        self._task = asyncio.create_task(self._run())
        if self._pending:
            self._wake.set()

    async def stop(self) -> None:
        """Stop the worker and pending retries."""
        tasks = [t for t in [self._task, *self._retries] if t]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._client:
            await self._client.aclose()
        self._task = None
        self._loop = None
        self._wake = None
        self._idle = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    if not self._pending:
                        break
                    item = self._pending.pop(0)
                await asyncio.sleep(self.delay_seconds)
                for ep in item["endpoints"]:
                    await self._deliver(ep, item, attempt=1)

    async def _deliver(self, ep: dict[str, str], item: dict[str, Any], attempt: int) -> None:
        if item["generation"] != self._generation:
            return  # forgotten since it was queued
        event = item["event"]
        payload = item["payload"]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(payload, ep["secret"], int(time.time())),
        }
        status: int | None = None
        error: str | None = None
        assert self._client is not None
        self._posting += 1
        if self._idle is not None:
            self._idle.clear()
        try:
            resp = await self._client.post(ep["url"], content=payload.encode(), headers=headers)
            status = resp.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._posting -= 1
            if not self._posting and self._idle is not None:
                self._idle.set()
        self.deliveries.append(
            {
                "event": event["id"],
                "type": event["type"],
                "url": ep["url"],
                "attempt": attempt,
                "status": status,
                "error": error,
                "at": time.time(),
            }
        )
        ok = status is not None and 200 <= status < 300
        if not ok and attempt <= len(self.retry_delays):
            delay = self.retry_delays[attempt - 1]
            task = asyncio.create_task(self._retry(ep, item, attempt + 1, delay))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _retry(
        self, ep: dict[str, str], item: dict[str, Any], attempt: int, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await self._deliver(ep, item, attempt)
