"""`python -m canvas_app intercom-setup`: create the automations' data attributes and tags.

Only allowlisted attributes are created (an attribute we never write has no business existing).
Idempotent: what exists is left alone and reported. Intercom cannot change an attribute's data
type, so an existing attribute with another type is reported as a problem for an admin to fix
(e.g. one created by hand, or by another app, with a different type).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from automations.intercom_gateway import IntercomGateway
from automations.recipes import ATTRIBUTES, TAGS
from billing.stripe_gateway import gather_all

if TYPE_CHECKING:
    from canvas_app.settings import Settings


@dataclass(frozen=True, slots=True)
class AttributeStatus:
    name: str
    data_type: str
    status: str  # created | exists | type_mismatch
    found_type: str | None = None


@dataclass
class SetupReport:
    attributes: list[AttributeStatus] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (name, created | exists)

    @property
    def problems(self) -> list[AttributeStatus]:
        return [a for a in self.attributes if a.status == "type_mismatch"]

    def lines(self) -> list[str]:
        lines = ["Intercom contact attributes:"]
        for attribute in self.attributes:
            status = attribute.status
            if status == "type_mismatch":
                status = f"TYPE MISMATCH: Intercom has {attribute.found_type}, fix by hand"
            lines.append(f"  {attribute.name:<36} {attribute.data_type:<9} {status}")
        lines.append("Intercom tags:")
        lines += [f"  {name:<36} {status}" for name, status in self.tags]
        return lines


def _same_type(found: str, wanted: str) -> bool:
    # Intercom reports `datetime` attributes as `date` (the 2.14 response enum has no datetime).
    dates = {"date", "datetime"}
    return found == wanted or (found in dates and wanted in dates)


async def intercom_setup(gateway: IntercomGateway, allowlist: Iterable[str]) -> SetupReport:
    report = SetupReport()
    allowed = set(allowlist)
    existing = {a.name: a for a in await gateway.list_contact_attributes() if a.custom}
    missing = [
        (name, data_type, description)
        for name, (data_type, description) in ATTRIBUTES.items()
        if name in allowed and name not in existing
    ]
    await gather_all(*(gateway.create_contact_attribute(*spec) for spec in missing))
    for name, (data_type, _description) in ATTRIBUTES.items():
        if name not in allowed:
            continue
        found = existing.get(name)
        if found is None:
            report.attributes.append(AttributeStatus(name, data_type, "created"))
        elif _same_type(found.data_type, data_type):
            report.attributes.append(AttributeStatus(name, data_type, "exists"))
        else:
            report.attributes.append(
                AttributeStatus(name, data_type, "type_mismatch", found.data_type)
            )
    tags = {name.lower() for name in await gateway.list_tags()}
    for tag in TAGS:
        if tag.lower() in tags:
            report.tags.append((tag, "exists"))
        else:
            await gateway.tag_id(tag)  # POST /tags creates it
            report.tags.append((tag, "created"))
    return report


async def set_up_workspace(settings: Settings) -> SetupReport:
    """`intercom-setup` for the workspace the settings point at (the CLI and the demo)."""
    gateway = IntercomGateway(
        base_url=settings.intercom_base_url,
        token=settings.intercom_access_token.get_secret_value(),
    )
    try:
        return await intercom_setup(gateway, settings.intercom_attribute_allowlist)
    finally:
        await gateway.close()
