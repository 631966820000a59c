"""The report's Cancellations section, from what the cancel flow recorded: customers who asked
to cancel, how many cancelled, how many an offer kept (and which offer). A resume is not a
cancellation request."""

from __future__ import annotations

from collections.abc import Callable

from tests.actions.conftest import who
from tests.conftest import AppClient
from tests.reporting.test_report import report_for


def choose(fin: AppClient, key: str, option: str) -> None:
    offers = fin.fin("/fin/cancellation/preview", who(key)).json()["offers"]
    token = next(o for o in offers if o["option"] == option)["confirmation_token"]
    response = fin.fin("/fin/cancellation", who(key, confirmation_token=token))
    assert response.status_code == 200, response.text


def test_the_report_counts_cancellations_and_the_offers_that_saved_them(
    start_app: Callable[..., AppClient],
) -> None:
    fin = start_app(retention_coupon="RETENTION20")
    choose(fin, "vip", "pause")
    choose(fin, "healthy", "coupon")
    choose(fin, "usage", "cancel_at_period_end")

    cancellations = report_for(fin.settings.database_url, since=None).cancellations

    assert cancellations.available is True
    assert (cancellations.requests, cancellations.cancelled, cancellations.saved) == (3, 1, 2)
    assert cancellations.saved_by_offer == {"pause": 1, "coupon": 1}
