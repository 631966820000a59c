"""Small rules the recipes and the gateway live by, checked without any server."""

from __future__ import annotations

from datetime import UTC, datetime

from automations.facts import PaymentFailure, event_metadata
from gateways.intercom import retry_after_seconds

NOW = 1_800_000_000.0


def test_retry_after_in_seconds_is_honoured() -> None:
    assert retry_after_seconds({"Retry-After": "2"}, now=NOW) == 2.0


def test_retry_after_as_http_date_is_honoured() -> None:
    header = "Fri, 15 Jan 2027 08:00:03 GMT"
    now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds({"retry-after": header}, now=now) == 3.0


def test_without_retry_after_intercoms_rate_limit_reset_is_used() -> None:
    assert retry_after_seconds({"X-RateLimit-Reset": str(int(NOW) + 4)}, now=NOW) == 4.0


def test_without_any_hint_the_wait_is_one_second() -> None:
    assert retry_after_seconds({}, now=NOW) == 1.0


def test_event_metadata_keeps_at_most_ten_keys_and_drops_empty_values() -> None:
    values = {f"key{i}": f"value {i}" for i in range(12)} | {"empty": None, "blank": ""}
    metadata = event_metadata({"empty": None, "blank": "", **values})
    assert list(metadata) == [f"key{i}" for i in range(10)]


def test_event_metadata_strings_are_cut_to_intercoms_limit() -> None:
    assert len(event_metadata({"long": "x" * 300})["long"]) == 255


def test_sepa_failure_carries_the_derived_bank_reason() -> None:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    assert PaymentFailure("insufficient_funds", "sepa_debit", at).label == (
        "insufficient_funds (AM04)"
    )
    assert PaymentFailure("account_closed", "sepa_debit", at).label == "account_closed (AC04)"
    assert PaymentFailure("card_declined", "card", at).label == "card_declined"
