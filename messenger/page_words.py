"""What each payment link page (`/l/<token>`) says: its title and its one paragraph, English
msgids translated when the page is rendered (`messenger.links`)."""

from kernel.i18n import N_

PAGE_WORDS: dict[str, tuple[str, str]] = {
    "paid": (
        N_("Thank you, your payment went through"),
        N_(
            "We charged %(amount)s to your card •••• %(last4)s for invoice %(number)s. Future"
            " payments use this card too."
        ),
    ),
    "declined": (
        N_("Your card was saved, but the payment was declined"),
        N_("Reason: %(reason)s. Nothing was charged. You can try another card."),
    ),
    "already_paid": (
        N_("This invoice is already paid"),
        N_("There is nothing more to do. Thank you!"),
    ),
    "processing": (
        N_("Your card was saved"),
        N_(
            "A bank debit for this invoice is still being processed, so your card was not "
            "charged. Future payments use your card."
        ),
    ),
    "in_progress": (
        N_("Your payment is being processed"),
        N_("Reload this page in a moment to see the result."),
    ),
    "saved": (
        N_("You're all set"),
        N_("Your card •••• %(last4)s is saved and will be used for your subscription."),
    ),
    "details_done": (
        N_("Thank you"),
        N_(
            "The billing address and tax IDs you saved are on your account now and appear on "
            "your next invoices. You can close this page."
        ),
    ),
    "expired": (
        N_("This link has expired"),
        N_(
            "For your security, payment links work for %(hours)s hours. Open the card in the "
            "chat again to get a fresh link. Nothing was charged."
        ),
    ),
    "too_many": (
        N_("This link was opened too often"),
        N_(
            "For your security, please open the card in the chat again to get a fresh link. "
            "Nothing was charged."
        ),
    ),
    "invalid": (
        N_("This link isn't valid"),
        N_("Please open the payment link from the chat again. Nothing was charged."),
    ),
    "cancelled": (
        N_("Nothing was changed"),
        N_("You can use the link again whenever you're ready."),
    ),
    "incomplete": (
        N_("Your card wasn't saved yet"),
        N_("The form wasn't completed. Nothing was charged."),
    ),
    "unavailable": (
        N_("We couldn't reach the payment provider"),
        N_("Nothing was charged. Please reload this page in a moment."),
    ),
    "failed": (
        N_("Something went wrong on our side"),
        N_("Nothing was charged. Please reply in the chat and our team will help."),
    ),
    "confirm": (
        N_("Confirm your payment"),
        N_(
            "Pay %(amount)s for invoice %(number)s with %(method)s? This card will also be "
            "used for future payments."
        ),
    ),
}
