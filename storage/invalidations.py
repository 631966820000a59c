"""Cache invalidation between instances over PostgreSQL `LISTEN`/`NOTIFY`.

Every instance holds one dedicated asyncpg connection that `LISTEN`s on one channel (named in
`pg_stat_activity` by its `application_name`, `canvas_app:invalidations:<pid>`), and publishes
each invalidation with `pg_notify` through the ordinary connection pool. The listener pings its
connection every `PING_SECONDS`; a lost connection (server restart, `pg_terminate_backend`, a
network failure) is reconnected with backoff. While it is down the bus is not `live`, and the
billing lookup serves nothing older than its offline bound; on every (re)connect the
subscribers are told to forget everything, because notifications sent in between are lost.

Publishing is fire-and-forget for the caller: a background task sends what is queued, retrying
with backoff while the database is unreachable, and drops an invalidation once it is older than
the snapshot cache's lifetime (no instance can still hold what it invalidates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
import uuid
from collections.abc import Callable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from storage.database import Database

log = logging.getLogger(__name__)

CHANNEL = "canvas_app_invalidations"
PING_SECONDS = 1.0  # how soon a silently dead connection is noticed
CONNECT_TIMEOUT = 5.0
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0
MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


def application_name(pid: int | None = None) -> str:
    """How the listener's connection is named in `pg_stat_activity`."""
    return f"canvas_app:invalidations:{pid or os.getpid()}"


class PostgresInvalidations:
    """The `billing.lookup.InvalidationBus` of instances sharing one PostgreSQL database."""

    def __init__(self, db: Database, *, forget_after: float = 30.0) -> None:
        self.db = db
        self.dsn = _asyncpg_dsn(db.url)
        self.forget_after = forget_after
        self.instance = uuid.uuid4().hex[:12]  # our own notifications come back: skip them
        self._forget: list[Callable[[str], None]] = []
        self._forget_all: list[Callable[[], None]] = []
        self._queue: list[tuple[float, str]] = []
        self._queued = asyncio.Event()
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._last_ping = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self.reconnects = 0

    # --- the InvalidationBus protocol ---
    @property
    def live(self) -> bool:
        conn = self._conn
        return (
            conn is not None
            and not conn.is_closed()
            and time.monotonic() - self._last_ping < 2 * PING_SECONDS + 1
        )

    def publish(self, customer_id: str) -> None:
        self._queue.append((time.monotonic(), customer_id))
        self._queued.set()

    def subscribe(self, forget: Callable[[str], None], forget_all: Callable[[], None]) -> None:
        self._forget.append(forget)
        self._forget_all.append(forget_all)

    @property
    def state(self) -> str:
        """For the health check: `listening` or `reconnecting`."""
        return "listening" if self.live else "reconnecting"

    # --- lifecycle ---
    async def start(self, *, wait: float = 3.0) -> None:
        """Start listening and publishing; waits up to `wait` s for the first connection (an
        unreachable database doesn't stop start-up: the listener keeps trying)."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="invalidations-listener"),
            asyncio.create_task(self._publish_forever(), name="invalidations-publisher"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=wait)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._send_queued(), timeout=2.0)  # what is left, once
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._close()

    # --- listening ---
    async def _listen_forever(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            try:
                await self._connect()
                backoff = BACKOFF_FIRST
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, terminated, timed out
                log.warning(
                    "invalidation listener down (%s); reconnecting in %.1f s",
                    type(exc).__name__,
                    backoff,
                )
            await self._close()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _connect(self) -> None:
        self._lost.clear()
        conn = await asyncpg.connect(
            self.dsn,
            timeout=CONNECT_TIMEOUT,
            server_settings={"application_name": application_name()},
        )
        conn.add_termination_listener(lambda _conn: self._lost.set())
        await conn.add_listener(CHANNEL, self._on_notification)
        self._conn = conn
        self._last_ping = time.monotonic()
        self._connected.set()
        # Whatever was cached before this moment may have missed invalidations.
        for forget_all in self._forget_all:
            forget_all()
        if self.reconnects:
            log.info("invalidation listener reconnected")
        self.reconnects += 1

    async def _watch(self) -> None:
        """Ping until the connection is lost; returns (raises) when it is."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=PING_SECONDS)
            if self._lost.is_set() or self._conn is None:
                raise ConnectionError("listener connection closed")
            await self._conn.fetchval("SELECT 1", timeout=PING_SECONDS)
            self._last_ping = time.monotonic()

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        sender, _, customer_id = payload.partition(" ")
        if sender == self.instance or not customer_id:
            return
        for forget in self._forget:
            forget(customer_id)

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=1.0)
            if not conn.is_closed():
                conn.terminate()

    # --- publishing ---
    async def _publish_forever(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            await self._queued.wait()
            try:
                await self._send_queued()
                backoff = BACKOFF_FIRST
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("publishing invalidations failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def _send_queued(self) -> None:
        self._queued.clear()
        now = time.monotonic()
        pending = [(at, cid) for at, cid in self._queue if now - at < self.forget_after]
        self._queue = []
        if not pending:
            return
        try:
            async with self.db.transaction() as conn:
                for customer_id in dict.fromkeys(cid for _, cid in pending):
                    payload = f"{self.instance} {customer_id}"[:MAX_PAYLOAD]
                    await conn.execute(
                        sa.text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": payload},
                    )
        except BaseException:
            self._queue[:0] = pending  # sent at commit or not at all: keep them for the retry
            self._queued.set()
            raise


def _asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://…` (SQLAlchemy) → `postgresql://…` (asyncpg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
