"""The Messenger cards a customer sees (billing status, savings, payment recovery, trial) and the
configure screen an admin picks them on, one module per card. Pure: domain data in, Canvas Kit
components out; the words come from the gettext catalogue (`kernel.i18n`) in the customer's
language and German address.
"""

from messenger.cards.common import (
    ambiguous_card,
    no_match_card,
    sign_in_card,
    unavailable_card,
    working_card,
)
from messenger.cards.recovery import recovery_card
from messenger.cards.savings import (
    quote_card,
    savings_breakdown_card,
    savings_card,
    switch_result_card,
    target_label,
)
from messenger.cards.status import CARD_TYPES, billing_status_card, configure_card
from messenger.cards.subscriptions import CHOOSE_SUBSCRIPTION, choose_savings_card
from messenger.cards.trial import trial_card

__all__ = [
    "CARD_TYPES",
    "CHOOSE_SUBSCRIPTION",
    "choose_savings_card",
    "ambiguous_card",
    "billing_status_card",
    "configure_card",
    "no_match_card",
    "quote_card",
    "recovery_card",
    "savings_breakdown_card",
    "savings_card",
    "sign_in_card",
    "switch_result_card",
    "target_label",
    "trial_card",
    "unavailable_card",
    "working_card",
]
