"""What one Stripe read costs the app's CPU, layer by layer: where a cold render's CPU goes.

    .venv/bin/python scripts/request_bench.py

Against the sandbox Stripe (no latency), on uvloop as the app runs, the same GET each time (the
SEPA customer with the expansions resolution asks for), sequentially, CPU time of this process
per request (the sandbox runs in its own process); the median of five rounds, each layer in turn:

- `http/1.1 floor`: one keep-alive connection, the request bytes written as they are, the
  answer parsed by httptools (what any client must do at least);
- `aiohttp`: a bare `session.get` on a keep-alive session;
- `sdk`: the SDK's requestor and its aiohttp client, as `StripeConnection._raw` sends a read;
- `gateway`: `StripeGateway.retrieve_customer`, everything a render pays (the SDK, decoding
  into `gateways.stripe_models.Customer`, error translation, the rate-limit gate).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import cast

import aiohttp
import httptools
import uvloop

from gateways.stripe import CUSTOMER_EXPAND, StripeGateway
from sandbox.bench import STRIPE_KEY, process
from sandbox.serving import free_port

CUSTOMER = "cus_DemoSepa"
REQUESTS, ROUNDS = 2000, 5


class _Floor(asyncio.Protocol):
    """HTTP/1.1 on one connection, one request at a time: the least a client does."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.WriteTransport | None = None
        self.answer: asyncio.Future[bytes] | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # uvloop's: not an ABC subclass

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.answer is not None
        self.answer.set_result(b"".join(self.body))
        self.body = []


async def _layers(
    base: str, port: int
) -> tuple[dict[str, Callable[[], Awaitable[object]]], Callable[[], Awaitable[None]]]:
    query = "&".join(f"expand[]={e}" for e in CUSTOMER_EXPAND)
    path = f"/v1/customers/{CUSTOMER}?{query}"
    headers = {"Authorization": f"Bearer {STRIPE_KEY}"}
    loop = asyncio.get_running_loop()
    raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {STRIPE_KEY}\r\n\r\n"
    floors: list[_Floor] = []

    async def floor_get() -> bytes:
        # uvicorn closes a connection idle for 5 s (while the other layers run): open another.
        if not floors or floors[0].transport is None or floors[0].transport.is_closing():
            floors[:] = [(await loop.create_connection(_Floor, "127.0.0.1", port))[1]]
        floor = floors[0]
        floor.answer = loop.create_future()
        assert floor.transport is not None
        floor.transport.write(raw.encode())
        return await floor.answer

    session = aiohttp.ClientSession()

    async def aiohttp_get() -> bytes:
        async with session.get(base + path, headers=headers) as response:
            return await response.read()

    gateway = StripeGateway(STRIPE_KEY, api_base=base, max_network_retries=1)
    # The requestor `StripeConnection._raw` sends reads through: the SDK client's own (the
    # client is built on first use, inside the running loop).
    requestor = gateway.client._requestor

    async def sdk_get() -> bytes:
        method, url, sdk_headers, data, retries, usage, *_ = (
            requestor._args_for_request_with_retries(
                "get",
                f"/v1/customers/{CUSTOMER}",
                {"expand": CUSTOMER_EXPAND},
                {},
                base_address="api",
                api_mode="V1",
                usage=["async"],
            )
        )
        send = requestor._get_http_client().request_with_retries_async
        body, _status, _headers = await send(
            method, url, sdk_headers, data, max_network_retries=retries, _usage=usage
        )
        return bytes(body)

    async def gateway_get() -> object:
        return await gateway.retrieve_customer(CUSTOMER)

    async def close() -> None:
        await session.close()
        await gateway.close()

    layers = {
        "http/1.1 floor": floor_get,
        "aiohttp": aiohttp_get,
        "sdk": sdk_get,
        "gateway": gateway_get,
    }
    return layers, close


async def _measure(base: str, port: int) -> dict[str, list[float]]:
    layers, close = await _layers(base, port)
    seen: dict[str, list[float]] = {name: [] for name in layers}
    try:
        for _ in range(ROUNDS):
            for name, get in layers.items():
                for _ in range(100):
                    await get()
                started = time.process_time()
                for _ in range(REQUESTS):
                    await get()
                seen[name].append((time.process_time() - started) * 1e6 / REQUESTS)
    finally:
        await close()
    return seen


def main() -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "sandbox.stripe_api", "--port", str(port)]
    args += ["--api-key", STRIPE_KEY, "--latency-ms", "0"]
    with process(args, {}, f"{base}/_sandbox/clock"):
        seen = uvloop.run(_measure(base, port))
    print(f"CPU per Stripe read (µs, this process; median of {ROUNDS} rounds of {REQUESTS}):")
    for name, values in seen.items():
        print(
            f"  {name:<16}{statistics.median(values):>7.0f}   ({min(values):.0f}–{max(values):.0f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
