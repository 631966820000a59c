"""Perform a recipe's effects on one Intercom contact, writing only what is not already so.

Order: attributes first (one PUT with just the changed values), so a Workflow that a tag or an
event starts sees current attributes; then tags, events and notes concurrently. Every write is
safe to repeat: tags and attributes are states, events carry a stable `created_at` that Intercom
de-duplicates on, and notes (and once-only events) go through `automation_marks`
(see `storage.automation_marks` for the pending → done protocol).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from automations.facts import AddTag, Effect, Note, RemoveTag, SetAttributes, TrackEvent
from automations.notes import note_marker as _marker
from gateways.intercom import IntercomContact, IntercomGateway, IntercomUnavailable
from storage.automation_marks import Mark, OnceMarks

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What was written (or, in a dry run, would be) and what was already so."""

    writes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def apply_effects(
    gateway: IntercomGateway,
    marks: OnceMarks,
    contact: IntercomContact,
    effects: Sequence[Effect],
    *,
    admin_id: str | None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Applied:
    now = now or datetime.now(UTC)
    applied = Applied()
    attributes = _changed_attributes(contact, effects)
    if attributes:
        applied.writes.append("attributes " + ", ".join(sorted(attributes)))
        if not dry_run:
            await gateway.update_attributes(contact.id, attributes)
    elif any(isinstance(e, SetAttributes) for e in effects):
        applied.unchanged.append("attributes")

    work: list[Awaitable[None]] = []
    for name, attach in _tag_changes(effects).items():
        work.append(_tag(gateway, contact, name, attach, applied, dry_run))
    for effect in effects:
        if isinstance(effect, TrackEvent):
            work.append(_event(gateway, marks, contact, effect, applied, dry_run, now))
        elif isinstance(effect, Note):
            work.append(_note(gateway, marks, contact, effect, applied, dry_run, admin_id, now))
    await _all_settled(work)
    return applied


async def _all_settled(work: list[Awaitable[None]]) -> None:
    """Run the writes concurrently and let each finish even if another fails (a cancelled
    write is one more to repeat, and its outcome unknown); then raise the first failure."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _changed_attributes(contact: IntercomContact, effects: Sequence[Effect]) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    for effect in effects:
        if isinstance(effect, SetAttributes):
            wanted.update(effect.values)
    current = contact.custom_attributes
    # An attribute Intercom does not have yet counts as null.
    return {key: value for key, value in wanted.items() if not _same(current.get(key), value)}


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(current, bool) or isinstance(wanted, bool):
        return current is wanted
    return current == wanted


def _tag_changes(effects: Sequence[Effect]) -> dict[str, bool]:
    """Tag name → attach (True) or detach (False); the last word on a tag wins."""
    changes: dict[str, bool] = {}
    for effect in effects:
        if isinstance(effect, AddTag):
            changes[effect.name] = True
        elif isinstance(effect, RemoveTag):
            changes[effect.name] = False
    return changes


async def _tag(
    gateway: IntercomGateway,
    contact: IntercomContact,
    name: str,
    attach: bool,
    applied: Applied,
    dry_run: bool,
) -> None:
    label = ("tag +" if attach else "tag -") + name
    if contact.tag_ids is not None:
        if not attach and not contact.tag_ids:
            applied.unchanged.append(label)
            return
        # A dry run must not create the tag just to learn its id.
        tag_id = await (gateway.existing_tag_id(name) if dry_run else gateway.tag_id(name))
        present = tag_id is not None and tag_id in contact.tag_ids
        if present == attach:
            applied.unchanged.append(label)
            return
    applied.writes.append(label)
    if dry_run:
        return
    if attach:
        await gateway.add_tag(contact.id, name)
    else:
        await gateway.remove_tag(contact.id, name)


async def _event(
    gateway: IntercomGateway,
    marks: OnceMarks,
    contact: IntercomContact,
    event: TrackEvent,
    applied: Applied,
    dry_run: bool,
    now: datetime,
) -> None:
    label = f"event {event.name}"
    if event.once_key is None:
        applied.writes.append(label)
        if not dry_run:
            await gateway.track_event(contact.id, event.name, event.created_at, event.metadata)
        return
    existing = await marks.get(event.once_key)
    if existing is not None and existing.state == "done":
        applied.unchanged.append(f"{label} (sent before)")
        return
    applied.writes.append(label)
    if dry_run:
        return
    mark = await marks.claim(event.once_key, event.created_at, now=now)
    if mark.state == "done":
        return
    _not_in_flight(mark, now)
    # A retry reuses the first attempt's time, so Intercom sees a duplicate, not a second event.
    async with _released_on_failure(marks, mark):
        await gateway.track_event(contact.id, event.name, mark.created_at, event.metadata)
    await marks.done(event.once_key, mark.created_at, contact.id)


async def _note(
    gateway: IntercomGateway,
    marks: OnceMarks,
    contact: IntercomContact,
    note: Note,
    applied: Applied,
    dry_run: bool,
    admin_id: str | None,
    now: datetime,
) -> None:
    label = f"note {note.key}"
    existing = await marks.get(note.key)
    if existing is not None and existing.state == "done":
        applied.unchanged.append(f"{label} (written before)")
        return
    applied.writes.append(label)
    if dry_run:
        return
    mark = await marks.claim(note.key, int(now.timestamp()), now=now)
    if mark.state == "done":
        return
    _not_in_flight(mark, now)
    if not mark.is_new:
        # An earlier attempt claimed the note and may have written it before failing.
        bodies = await gateway.note_bodies(contact.id)
        if any(_marker(note.key) in body for body in bodies):
            log.info("note %s was written by an earlier attempt", note.key)
            await marks.done(note.key, mark.created_at, contact.id)
            return
    async with _released_on_failure(marks, mark):
        await gateway.create_note(contact.id, note.body, admin_id)
    await marks.done(note.key, mark.created_at, contact.id)


class EffectInProgress(IntercomUnavailable):
    """A once-only effect is being written by a concurrent attempt right now: try again later
    (a webhook answers non-2xx so Stripe redelivers; a sweep counts the item as not done)."""


def _not_in_flight(mark: Mark, now: datetime) -> None:
    if mark.in_flight(now):
        raise EffectInProgress(f"{mark.key} is being written by another attempt")


@asynccontextmanager
async def _released_on_failure(marks: OnceMarks, mark: Mark) -> AsyncIterator[None]:
    try:
        yield
    except BaseException:
        await marks.release(mark.key, mark.created_at)
        raise
