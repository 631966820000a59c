"""`python -m canvas_app intercom-setup`: create the automations' data attributes and tags.

`stripe_id` first (it links a contact to a Stripe customer, so it decides whose billing a
contact sees), then the allowlisted attributes (an attribute we never write has no business
existing); every one with `messenger_writable: false`, so a visitor's browser cannot set it
(`billing.trust`). Idempotent: what exists is left alone and reported. Problems (exit code 1):
an existing attribute with another data type (Intercom cannot change a type; an admin fixes it)
and an existing attribute of ours that the Messenger may write (`--protect` makes it not
writable, through `PUT /data_attributes/{id}`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automations.recipes import ATTRIBUTES, TAGS
from gateways.intercom import IntercomGateway
from gateways.stripe import gather_all

if TYPE_CHECKING:
    from kernel.settings import Settings


# Links a contact to a Stripe customer, and so decides whose billing a contact sees: created
# first and always (even when not allowlisted for writing), never writable from the Messenger.
LINK_ATTRIBUTE = "stripe_id"
PROTECT_HINT = (
    "a visitor's browser can set it (Intercom('update', ...)); run "
    "`python -m canvas_app intercom-setup --protect`, or turn off updates from the Messenger "
    "for it in Intercom (Settings > Data > People data)"
)


@dataclass(frozen=True, slots=True)
class AttributeStatus:
    name: str
    data_type: str
    status: str  # created | exists | type_mismatch
    found_type: str | None = None
    # An existing attribute of ours that the Messenger may write (and whether we just fixed it).
    messenger_writable: bool = False
    protected: bool = False

    @property
    def exposed(self) -> bool:
        """Still writable from the Messenger after this run."""
        return self.messenger_writable and not self.protected


@dataclass
class SetupReport:
    attributes: list[AttributeStatus] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (name, created | exists)

    @property
    def problems(self) -> list[AttributeStatus]:
        return [a for a in self.attributes if a.status == "type_mismatch" or a.exposed]

    def lines(self) -> list[str]:
        lines = ["Intercom contact attributes:"]
        for attribute in self.attributes:
            status = attribute.status
            if status == "type_mismatch":
                status = f"TYPE MISMATCH: Intercom has {attribute.found_type}, fix by hand"
            if attribute.protected:
                status += ", made not writable from the Messenger"
            elif attribute.exposed:
                status += f", WRITABLE FROM THE MESSENGER: {PROTECT_HINT}"
            lines.append(f"  {attribute.name:<36} {attribute.data_type:<9} {status}")
        lines.append("Intercom tags:")
        lines += [f"  {name:<36} {status}" for name, status in self.tags]
        return lines


def _same_type(found: str, wanted: str) -> bool:
    # Intercom reports `datetime` attributes as `date` (the 2.14 response enum has no datetime).
    dates = {"date", "datetime"}
    return found == wanted or (found in dates and wanted in dates)


async def intercom_setup(
    gateway: IntercomGateway, allowlist: Iterable[str], *, protect: bool = False
) -> SetupReport:
    """Create our contact attributes (`stripe_id` first, then the allowlisted ones) not
    writable from the Messenger, and the tags. An existing attribute of ours the Messenger may
    write is reported as a problem; with `protect` it is made not writable instead."""
    report = SetupReport()
    wanted = {LINK_ATTRIBUTE, *allowlist}
    ours = [(name, spec) for name, spec in ATTRIBUTES.items() if name in wanted]
    existing = {a.name: a for a in await gateway.list_contact_attributes() if a.custom}
    missing = [(name, *spec) for name, spec in ours if name not in existing]
    # stripe_id before anything else (it names a customer), then the rest concurrently.
    for spec in (spec for spec in missing if spec[0] == LINK_ATTRIBUTE):
        await gateway.create_contact_attribute(*spec)
    await gather_all(
        *(gateway.create_contact_attribute(*spec) for spec in missing if spec[0] != LINK_ATTRIBUTE)
    )
    exposed = [
        existing[name]
        for name in ATTRIBUTES  # ours, allowlisted or not: none may be set by a visitor
        if name in existing and existing[name].messenger_writable
    ]
    if protect:
        await gather_all(*(gateway.protect_attribute(a.id) for a in exposed if a.id is not None))
    writable = {a.name for a in exposed}
    for name, (data_type, _description) in ours:
        found = existing.get(name)
        if found is None:
            report.attributes.append(AttributeStatus(name, data_type, "created"))
            continue
        status = "exists" if _same_type(found.data_type, data_type) else "type_mismatch"
        report.attributes.append(
            AttributeStatus(
                name,
                data_type,
                status,
                found.data_type if status == "type_mismatch" else None,
                messenger_writable=name in writable,
                protected=protect and name in writable and found.id is not None,
            )
        )
    for name in sorted(writable - {name for name, _spec in ours}):
        # Ours but not allowlisted (we don't write it): still not for visitors to set.
        data_type = ATTRIBUTES[name][0]
        protected = protect and existing[name].id is not None
        report.attributes.append(
            AttributeStatus(name, data_type, "exists", messenger_writable=True, protected=protected)
        )
    tags = {name.lower() for name in await gateway.list_tags()}
    for tag in TAGS:
        if tag.lower() in tags:
            report.tags.append((tag, "exists"))
        else:
            await gateway.tag_id(tag)  # POST /tags creates it
            report.tags.append((tag, "created"))
    return report


async def set_up_workspace(settings: Settings, *, protect: bool = False) -> SetupReport:
    """`intercom-setup` for the workspace the settings point at (the CLI and the demo)."""
    gateway = IntercomGateway(
        base_url=settings.intercom_base_url,
        token=settings.intercom_access_token.get_secret_value(),
    )
    try:
        return await intercom_setup(gateway, settings.intercom_attribute_allowlist, protect=protect)
    finally:
        await gateway.close()
