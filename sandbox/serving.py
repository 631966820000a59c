"""Serve an ASGI app on a free loopback port in a background thread (tests, demo, benchmark).

The socket is bound before the thread starts, so there is no race for the port; tests drive
servers through real HTTP, so each runs outside the test's event loop.
"""

from __future__ import annotations

import functools
import gc
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process for every HTTP client the sandboxes, the demo and the tests
    build: httpx loads the CA bundle anew for each client otherwise (~50 ms of CPU)."""
    return httpx.create_ssl_context()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a sandbox re-seeds its world: the thousands of new
    dicts would set off collections that walk every object of the process (in a test worker,
    the app, the sandboxes and the test run) and double the cost of a reset. Seeding makes no
    cycles worth collecting at once; the collector runs again as usual afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ThreadedServer:
    """uvicorn in a daemon thread with its own event loop; `stop()` shuts it down cleanly."""

    def __init__(self, app: Any, *, port: int | None = None, log_level: str = "warning") -> None:
        # IPPROTO_TCP, not the default 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
        # on connections whose socket says it is TCP, and the accepted ones inherit the
        # listener's protocol. With 0, a response written in two parts (head, then body) waited
        # for the client's delayed ACK: ~40 ms on every request.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port or 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            daemon=True,
            name=f"uvicorn-{self.port}",
        )

    def start(self, timeout: float = 15.0) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.server.should_exit = True
                self.sock.close()
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def request_stop(self) -> None:
        """Ask the server to shut down (lifespan shutdown included) without waiting for it."""
        self.server.should_exit = True

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        self.thread.join(timeout)
        self.sock.close()


def serve_in_thread(app: Any, *, port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Start `app`; return `(base_url, stop)` once it accepts connections."""
    server = ThreadedServer(app, port=port).start()
    return server.url, server.stop
