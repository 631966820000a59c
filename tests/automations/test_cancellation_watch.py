"""The cancellation watch, driven by the sandbox Stripe's own signed webhooks: a subscription set
to cancel at the period end tags the contact `Cancellation-Pending` and tracks one
`stripe-cancellation-scheduled` (subscription, the end as a date, the plan); resuming removes the
tag. Late, repeated and out-of-order events restate the present: one event per scheduling."""

from __future__ import annotations

from tests.automations.conftest import Loop

SUB = "sub_DemoHealthy"
CONTACT = "contact_healthy"
TAG = "Cancellation-Pending"
EVENT = "stripe-cancellation-scheduled"


def schedule(loop: Loop) -> dict:
    return loop.stripe_post(f"/v1/subscriptions/{SUB}", {"cancel_at_period_end": "true"})


def resume(loop: Loop) -> dict:
    return loop.stripe_post(f"/v1/subscriptions/{SUB}", {"cancel_at_period_end": "false"})


def test_scheduling_a_cancellation_tags_the_contact_and_tracks_the_event(loop: Loop) -> None:
    loop.connect_webhooks()
    scheduled = schedule(loop)

    events = loop.wait_for(lambda: loop.events(CONTACT, EVENT), what="cancellation event")

    # The tag and the event are written concurrently: either may land first.
    loop.wait_for(lambda: TAG in loop.tags(CONTACT), what="tag")
    metadata = events[0]["metadata"]
    assert metadata["subscription"] == SUB
    assert metadata["cancel_at_date"] == scheduled["cancel_at"]
    assert scheduled["cancel_at"] == scheduled["items"]["data"][0]["current_period_end"]
    assert metadata["plan"] == "Pro"
    assert loop.attributes(CONTACT)["stripe_cancel_at_period_end"] is True


def test_resuming_removes_the_tag_and_tracks_nothing_more(loop: Loop) -> None:
    loop.connect_webhooks()
    schedule(loop)
    loop.wait_for(lambda: TAG in loop.tags(CONTACT), what="tag")

    resume(loop)

    loop.wait_for(lambda: TAG not in loop.tags(CONTACT), what="tag removed")
    assert len(loop.events(CONTACT, EVENT)) == 1
    assert loop.attributes(CONTACT)["stripe_cancel_at_period_end"] is False


def test_a_redelivered_event_tracks_the_scheduling_once(loop: Loop) -> None:
    loop.connect_webhooks()
    schedule(loop)
    loop.wait_for(lambda: loop.events(CONTACT, EVENT), what="cancellation event")
    updated = loop.emitted("customer.subscription.updated", "cus_DemoHealthy")[0]

    # Stripe delivers the same change again (a new delivery of an event like it).
    again = loop.event("customer.subscription.updated", updated["data"]["object"])
    assert loop.deliver(again).status_code == 200

    assert len(loop.events(CONTACT, EVENT)) == 1
    assert TAG in loop.tags(CONTACT)


def test_cancelling_again_after_resuming_is_a_new_scheduling(loop: Loop) -> None:
    loop.connect_webhooks()
    schedule(loop)
    loop.wait_for(lambda: loop.events(CONTACT, EVENT), what="first event")
    resume(loop)
    loop.wait_for(lambda: TAG not in loop.tags(CONTACT), what="tag removed")
    loop.stripe.control("POST", "/_sandbox/clock/advance", {"seconds": 3600})

    schedule(loop)

    loop.wait_for(lambda: len(loop.events(CONTACT, EVENT)) == 2, what="second event")
    loop.wait_for(lambda: TAG in loop.tags(CONTACT), what="tag again")


def test_a_late_scheduling_event_after_the_resume_changes_nothing(loop: Loop) -> None:
    # No webhook endpoint: the events are delivered by hand, the older one last.
    scheduled = schedule(loop)
    resumed = resume(loop)

    assert loop.deliver(loop.event("customer.subscription.updated", resumed)).status_code == 200
    assert loop.deliver(loop.event("customer.subscription.updated", scheduled)).status_code == 200

    assert TAG not in loop.tags(CONTACT)
    assert loop.events(CONTACT, EVENT) == []
