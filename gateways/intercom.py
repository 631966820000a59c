"""The Intercom gateway: the only module that calls the official `python-intercom` SDK.

Every method is one named REST call (API version pinned to 2.14 by header) that maps Intercom's
failures onto two domain errors: `IntercomUnavailable` (rate limit that outlasts our patience,
5xx, timeouts: try again later) and `IntercomRejected` (Intercom said no, with its status and
code). A 429 is waited out here, bounded, honouring `Retry-After`; nothing else is retried here
because the callers (Stripe's webhook redelivery, the next sweep) are the retry loop.

The SDK retries only when a request passes `request_options={"max_retries": n}` with n > 2 (see
`intercom/core/http_client.py`); we never pass it, so 429s are retried exactly once: here.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from intercom import AsyncIntercom
from intercom.core.api_error import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERCOM_VERSION = "2.14"
MAX_ATTEMPTS = 3  # one call plus up to two waits on 429
MAX_RETRY_WAIT_SECONDS = 5.0  # longer waits are left to the caller's own retry (Stripe, sweep)
DEFAULT_RETRY_WAIT_SECONDS = 1.0
SEARCH_PAGE_SIZE = 50


class IntercomError(Exception):
    """Base class; the message names the operation, never a request or response body."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class IntercomUnavailable(IntercomError):
    """Intercom did not answer usefully (rate limited, 5xx, timeout): retry later."""


class IntercomRejected(IntercomError):
    """Intercom refused the request (4xx other than 429): e.g. an attribute that does not exist."""


@dataclass(frozen=True, slots=True)
class IntercomContact:
    """What the automations need to know about a contact to write only what changed."""

    id: str
    external_id: str | None
    email: str | None
    role: str | None
    custom_attributes: Mapping[str, Any] = field(default_factory=dict)
    # Tag ids on the contact, or None when Intercom's embedded list is incomplete (> 10 tags).
    tag_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class DataAttributeInfo:
    name: str
    data_type: str
    custom: bool
    archived: bool = False
    id: int | None = None
    # Whether the Messenger (a visitor's browser, `Intercom('update', ...)`) may set it.
    messenger_writable: bool = False


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR), built once per
    process: loading the CA bundle costs ~50 ms of CPU, and every gateway would load it again."""
    return httpx.create_ssl_context()


class IntercomGateway:
    """Async access to Intercom's REST API for the automations."""

    def __init__(self, *, base_url: str, token: str, timeout_seconds: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout_seconds, verify=_tls_context())
        self.client = AsyncIntercom(
            base_url=self.base_url,
            token=token,
            headers={"Intercom-Version": INTERCOM_VERSION},
            httpx_client=self._http,
        )
        self._tag_ids: dict[str, str] = {}

    async def close(self) -> None:
        await self._http.aclose()

    # Set by the app to count every call: (operation, outcome).
    observe: Callable[[str, str], None] | None = None

    async def call(
        self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Run one SDK call (`_translated`), reported to `observe` when set."""
        outcome = "cancelled"
        try:
            result = await self._translated(operation, fn, *args, **kwargs)
            outcome = "ok"
            return result
        except IntercomError as exc:
            outcome = "unavailable" if isinstance(exc, IntercomUnavailable) else "rejected"
            raise
        finally:
            if self.observe is not None:
                self.observe(operation, outcome)

    async def _translated(
        self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Run one SDK call; wait out a 429 (bounded), translate everything else."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await fn(*args, **kwargs)
            except ApiError as exc:
                status = exc.status_code or 0
                if status == 429 and attempt < MAX_ATTEMPTS:
                    wait = retry_after_seconds(exc.headers or {})
                    if wait <= MAX_RETRY_WAIT_SECONDS:
                        log.info("Intercom rate limit on %s; retrying in %.1f s", operation, wait)
                        await asyncio.sleep(wait)
                        continue
                raise _domain_error(operation, exc) from exc
            except httpx.TimeoutException as exc:
                raise IntercomUnavailable(f"{operation}: Intercom did not answer in time") from exc
            except httpx.TransportError as exc:
                raise IntercomUnavailable(
                    f"{operation}: Intercom unreachable ({type(exc).__name__})"
                ) from exc
        raise AssertionError("unreachable: the loop returns or raises")

    # --- contacts ---
    async def find_by_external_id(self, external_id: str) -> IntercomContact | None:
        try:
            contact = await self.call(
                "GET /contacts/find_by_external_id",
                self.client.contacts.show_contact_by_external_id,
                external_id=external_id,
            )
        except IntercomRejected as exc:
            if exc.status == 404:
                return None
            raise
        return _contact(contact)

    async def search_contacts(self, query: dict[str, Any]) -> list[IntercomContact]:
        """The first page of a contact search (enough: callers want zero, one or "several")."""
        pager = await self.call(
            "POST /contacts/search",
            self.client.contacts.search,
            query=query,
            pagination={"per_page": SEARCH_PAGE_SIZE},
        )
        return [_contact(item) for item in pager.items or []]

    async def update_attributes(self, contact_id: str, values: Mapping[str, Any]) -> None:
        await self.call(
            "PUT /contacts/{id}",
            self.client.contacts.update,
            contact_id,
            custom_attributes=dict(values),
        )

    # --- tags ---
    async def tag_id(self, name: str) -> str:
        """The id of the tag called `name`, creating it if needed (POST /tags is create-or-get)."""
        cached = self._tag_ids.get(name)
        if cached is not None:
            return cached
        tag = await self.call("POST /tags", self.client.tags.create, request={"name": name})
        self._tag_ids[name] = str(tag.id)
        return self._tag_ids[name]

    async def existing_tag_id(self, name: str) -> str | None:
        """The id of the tag called `name` if the workspace has it; never creates one."""
        if name in self._tag_ids:
            return self._tag_ids[name]
        tags = {tag.lower(): tag_id for tag, tag_id in (await self.list_tags()).items()}
        found = tags.get(name.lower())
        if found is not None:
            self._tag_ids[name] = found
        return found

    async def add_tag(self, contact_id: str, name: str) -> None:
        await self._with_tag(
            name,
            lambda tag_id: self.call(
                "POST /contacts/{id}/tags",
                self.client.tags.tag_contact,
                contact_id,
                tag_id=tag_id,
            ),
        )

    async def remove_tag(self, contact_id: str, name: str) -> None:
        try:
            await self._with_tag(
                name,
                lambda tag_id: self.call(
                    "DELETE /contacts/{id}/tags/{tag_id}",
                    self.client.tags.untag_contact,
                    contact_id,
                    tag_id,
                ),
            )
        except IntercomRejected as exc:
            if exc.status != 404:
                raise
            # Nothing to remove: the tag is not on the contact (or no longer exists).

    async def _with_tag(self, name: str, action: Callable[[str], Awaitable[Any]]) -> None:
        tag_id = await self.tag_id(name)
        try:
            await action(tag_id)
        except IntercomRejected as exc:
            if exc.status != 404:
                raise
            # A cached tag id may have been deleted in Intercom: look it up again, once.
            self._tag_ids.pop(name, None)
            await action(await self.tag_id(name))

    async def list_tags(self) -> dict[str, str]:
        tags = await self.call("GET /tags", self.client.tags.list)
        return {str(tag.name): str(tag.id) for tag in tags.data or [] if tag is not None}

    # --- events and notes ---
    async def track_event(
        self, contact_id: str, name: str, created_at: int, metadata: Mapping[str, Any]
    ) -> None:
        """POST /events. Intercom de-duplicates on contact + name + created_at, so a repeat
        with the same `created_at` is harmless."""
        await self.call(
            "POST /events",
            self.client.events.create,
            request={
                "id": contact_id,
                "event_name": name,
                "created_at": created_at,
                "metadata": dict(metadata),
            },
        )

    async def create_note(self, contact_id: str, body: str, admin_id: str | None) -> str:
        note = await self.call(
            "POST /contacts/{id}/notes",
            self.client.notes.create,
            contact_id,
            body=body,
            **({"admin_id": admin_id} if admin_id else {}),
        )
        return str(note.id)

    async def note_bodies(self, contact_id: str) -> list[str]:
        """Bodies of the contact's most recent notes (first page, newest first)."""
        pager = await self.call(
            "GET /contacts/{id}/notes", self.client.notes.list, contact_id, per_page=50
        )
        return [str(note.body or "") for note in pager.items or []]

    # --- data attributes ---
    async def list_contact_attributes(self) -> list[DataAttributeInfo]:
        result = await self.call(
            "GET /data_attributes", self.client.data_attributes.list, model="contact"
        )
        return [
            DataAttributeInfo(
                name=str(item.name),
                data_type=str(item.data_type),
                custom=bool(item.custom),
                archived=bool(item.archived),
                id=item.id,
                messenger_writable=bool(item.messenger_writable),
            )
            for item in result.data or []
        ]

    async def create_contact_attribute(self, name: str, data_type: str, description: str) -> None:
        """Create a contact attribute only the API (and agents) may write, never the Messenger."""
        await self.call(
            "POST /data_attributes",
            self.client.data_attributes.create,
            request={
                "name": name,
                "model": "contact",
                "data_type": data_type,
                "description": description,
                "messenger_writable": False,
            },
        )

    async def protect_attribute(self, attribute_id: int) -> None:
        """Make an existing attribute not writable from the Messenger."""
        await self.call(
            "PUT /data_attributes/{id}",
            self.client.data_attributes.update,
            attribute_id,
            request={"messenger_writable": False},
        )


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float:
    """How long a 429 asks us to wait: `Retry-After` (seconds or HTTP date), else Intercom's
    `X-RateLimit-Reset` (Unix time the window resets), else one second."""
    lowered = {key.lower(): value for key, value in headers.items()}
    now = time.time() if now is None else now
    retry_after = lowered.get("retry-after")
    if retry_after is not None:
        value = retry_after.strip()
        if value.replace(".", "", 1).isdigit():
            return max(float(value), 0.0)
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is not None:
            return max(parsed.timestamp() - now, 0.0)
    reset = lowered.get("x-ratelimit-reset")
    if reset is not None and reset.strip().isdigit():
        return max(int(reset) - now, 0.0)
    return DEFAULT_RETRY_WAIT_SECONDS


def _domain_error(operation: str, exc: ApiError) -> IntercomError:
    status = exc.status_code or 0
    code = _error_code(exc.body)
    if status == 429 or status >= 500 or status < 400:
        label = "rate limited" if status == 429 else f"answered {status}"
        return IntercomUnavailable(f"{operation}: Intercom {label}", status=status, code=code)
    if status == 401:
        log.error("Intercom rejected the access token (check INTERCOM_ACCESS_TOKEN)")
    return IntercomRejected(
        f"{operation}: Intercom answered {status} ({code or 'no code'})", status=status, code=code
    )


def _error_code(body: Any) -> str | None:
    errors = getattr(body, "errors", None)
    if errors is None and isinstance(body, dict):
        errors = body.get("errors")
    if not errors:
        return None
    first = errors[0]
    code = first.get("code") if isinstance(first, dict) else getattr(first, "code", None)
    return str(code) if code else None


def _contact(model: Any) -> IntercomContact:
    tags = getattr(model, "tags", None)
    tag_ids: frozenset[str] | None = None
    if tags is not None and not getattr(tags, "has_more", False):
        tag_ids = frozenset(str(tag.id) for tag in tags.data or [])
    return IntercomContact(
        id=str(model.id),
        external_id=model.external_id,
        email=model.email,
        role=getattr(model, "role", None),
        custom_attributes=dict(model.custom_attributes or {}),
        tag_ids=tag_ids,
    )
