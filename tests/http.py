"""The tests' own HTTP client. Building an httpx client loads the CA bundle (~0.1 s), so
`httpx.get(...)` — a new client per call — cost the suite more than the calls themselves. One
client is shared instead (no server here sets cookies, so nothing leaks between tests), and every
other client the tests build reuses one SSL context."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.serving import tls_context

SSL_CONTEXT = tls_context()


def client(**options: Any) -> httpx.Client:
    """A new synchronous client without loading the CA bundle again."""
    return httpx.Client(verify=SSL_CONTEXT, **options)


def async_client(**options: Any) -> httpx.AsyncClient:
    """A new asynchronous client without loading the CA bundle again."""
    return httpx.AsyncClient(verify=SSL_CONTEXT, **options)


HTTP = client(timeout=30)
