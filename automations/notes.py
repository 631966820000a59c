"""The notes the automations leave on a contact for the team, in the agents' language (formal
German or English, from the gettext catalogue). Each ends with a marker naming its key."""

from __future__ import annotations

from automations.facts import InvoiceFacts
from billing.money import Money
from kernel.i18n import describe_failure, t


def note_marker(key: str) -> str:
    """The reference every automation note ends with: lets a retry see the note was written."""
    return f"ref {key}"


def vip_note(ltv: Money, threshold: Money, key: str, locale: str) -> str:
    text = t(
        "<b>VIP customer</b>: lifetime value is now %(value)s (threshold %(limit)s). "
        "Account manager: worth a personal touch.",
        locale,
        value=ltv.format(locale),
        limit=threshold.format(locale),
    )
    return f"<p>{text}</p><p>{note_marker(key)}</p>"


def escalation_note(invoice: InvoiceFacts, hours: int, key: str, locale: str) -> str:
    values = {
        "number": invoice.number or invoice.id,
        "amount": invoice.amount_remaining.format(locale),
        "hours": hours,
    }
    failure = invoice.last_failure
    why = (
        describe_failure(failure.code, None, sepa=failure.sepa is not None, locale=locale)
        if failure and failure.code
        else None
    )
    if why:
        text = t(
            "<b>Billing escalated</b>: invoice %(number)s (%(amount)s) is still unpaid %(hours)s h "
            "after the first failed payment – reason: %(why)s. Customer success: please reach out.",
            locale,
            why=why,
            **values,
        )
    else:
        text = t(
            "<b>Billing escalated</b>: invoice %(number)s (%(amount)s) is still unpaid %(hours)s h "
            "after the first failed payment. Customer success: please reach out.",
            locale,
            **values,
        )
    return f"<p>{text}</p><p>{note_marker(key)}</p>"
