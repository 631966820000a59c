"""The operator commands: `python -m canvas_app sweep` (time-based recipes, safe to repeat) and
`python -m canvas_app intercom-setup` (attributes and tags, idempotent)."""

from __future__ import annotations

from typing import Any

from tests.automations.conftest import Loop
from tests.conftest import INTERCOM_TOKEN
from tests.http import HTTP


def contact_attributes(loop: Loop) -> dict[str, dict[str, Any]]:
    response = HTTP.get(
        f"{loop.intercom.url}/data_attributes",
        params={"model": "contact"},
        headers={"Authorization": f"Bearer {INTERCOM_TOKEN}"},
    )
    return {a["name"]: a for a in response.json()["data"] if a["custom"]}


# --- sweep ----------------------------------------------------------------------------------
def test_sweep_escalates_warns_and_flags_then_a_second_run_writes_nothing(loop: Loop) -> None:
    # Seeded: Müller's SEPA invoice failed ~2 days ago, Jonas's trial ends in 2 days with no
    # payment method, Paul has used 85 % of his plan's API calls.
    code, output = loop.cli("sweep", escalation_delay_hours=24)

    assert code == 0, output
    assert {"Billing-Issue", "Billing-Escalated"} <= loop.tags("contact_sepa")
    notes = loop.notes("contact_sepa")
    assert len(notes) == 1
    assert "Billing escalated" in notes[0] and "MUELLERM-0004" in notes[0]
    assert "insufficient funds (AM04)" in notes[0] and "24 h" in notes[0]
    assert len(loop.events("contact_trial", "stripe-trial-ending")) == 1
    assert loop.attributes("contact_trial")["stripe_has_payment_method"] is False
    assert len(loop.events("contact_usage", "stripe-usage-threshold")) == 1
    assert loop.attributes("contact_usage")["usage_status"] == "high_risk"

    loop.intercom.control("DELETE", "/_sandbox/requests")
    code, output = loop.cli("sweep", escalation_delay_hours=24)

    assert code == 0, output
    assert loop.writes() == []
    assert "0 changed (0 Intercom writes)" in output
    assert len(loop.notes("contact_sepa")) == 1
    assert len(loop.events("contact_trial", "stripe-trial-ending")) == 1
    assert len(loop.events("contact_usage", "stripe-usage-threshold")) == 1


def test_sweep_does_not_escalate_before_the_delay(loop: Loop) -> None:
    # The seeded failure is about 48 hours old (within the seed's minute alignment, so a delay of
    # exactly 48 hours would depend on the second the test runs in): two hours more to go.
    code, output = loop.cli("sweep", "--only", "escalation", escalation_delay_hours=50)

    assert code == 0
    assert "delay not reached" in output
    assert "Billing-Escalated" not in loop.tags("contact_sepa")
    assert loop.notes("contact_sepa") == []


def test_dry_run_prints_the_plan_and_writes_nothing(loop: Loop) -> None:
    code, output = loop.cli("sweep", "--dry-run", escalation_delay_hours=24)

    assert code == 0
    assert "[dry-run] escalation" in output and "would write" in output
    assert "tag +Billing-Escalated" in output and "note escalated/" in output
    assert "event stripe-trial-ending" in output and "event stripe-usage-threshold" in output
    assert loop.writes() == []

    # Nothing was marked as done either: the real run does all of it.
    loop.cli("sweep", escalation_delay_hours=24)
    assert len(loop.notes("contact_sepa")) == 1


def test_trial_warned_by_webhook_is_not_warned_again_by_the_sweep(loop: Loop) -> None:
    loop.connect_webhooks()
    loop.stripe.control("POST", "/_sandbox/clock/advance", {"seconds": 0})
    loop.wait_for(lambda: loop.events("contact_trial", "stripe-trial-ending"))

    code, output = loop.cli("sweep", "--only", "trials")

    assert code == 0
    assert "trial warning sent before" in output
    assert len(loop.events("contact_trial", "stripe-trial-ending")) == 1


def test_paying_an_escalated_invoice_clears_both_tags(loop: Loop) -> None:
    loop.cli("sweep", "--only", "escalation", escalation_delay_hours=24)
    assert "Billing-Escalated" in loop.tags("contact_sepa")
    loop.connect_webhooks()

    invoice = loop.stripe_api("/v1/invoices", {"customer": "cus_DemoSepa", "status": "open"})
    loop.stripe_post(f"/v1/invoices/{invoice['data'][0]['id']}/pay", {"paid_out_of_band": "true"})

    loop.wait_for(lambda: not loop.tags("contact_sepa"), what="both tags removed")


def test_sweep_reports_an_intercom_outage_with_a_failing_exit_code(loop: Loop) -> None:
    loop.intercom.control("POST", "/_sandbox/faults", {"status": 500, "count": 100})

    code, output = loop.cli("sweep", "--only", "usage")

    assert code == 1
    assert "failed" in output and "IntercomUnavailable" in output


# --- intercom-setup -------------------------------------------------------------------------
def test_setup_creates_allowlisted_attributes_with_their_types_and_the_tags(make_loop) -> None:
    loop = make_loop(setup=False)

    code, output = loop.cli("intercom-setup")

    assert code == 0
    attributes = contact_attributes(loop)
    assert attributes["stripe_plan_price"]["data_type"] == "float"
    assert attributes["stripe_ltv"]["data_type"] == "float"
    assert attributes["VIP_Status"]["data_type"] == "boolean"
    assert attributes["stripe_delinquent"]["data_type"] == "boolean"
    assert attributes["usage_status"]["data_type"] == "string"
    # Intercom reports datetime attributes as "date".
    assert attributes["stripe_trial_end_at"]["data_type"] == "date"
    assert "stripe_card_brand" not in attributes  # off by default: never created
    tags = HTTP.get(
        f"{loop.intercom.url}/tags", headers={"Authorization": f"Bearer {INTERCOM_TOKEN}"}
    ).json()["data"]
    names = {tag["name"] for tag in tags}
    assert {"Billing-Issue", "Billing-Escalated", "Cancellation-Pending"} <= names
    assert "stripe_plan_price" in output and "created" in output
    assert "Billing-Escalated" in output


def test_setup_twice_creates_nothing_the_second_time(make_loop) -> None:
    loop = make_loop()  # ran once already

    code, output = loop.cli("intercom-setup")

    assert code == 0
    created = [r for r in loop.writes() if r["path"] in ("/data_attributes", "/tags")]
    assert created == []
    assert "created" not in output
    assert output.count("exists") == 15 + 3  # the default allowlist, and the three tags


def test_setup_reports_an_attribute_with_the_wrong_type(make_loop) -> None:
    loop = make_loop(setup=False)
    HTTP.post(
        f"{loop.intercom.url}/data_attributes",
        json={"name": "stripe_ltv", "model": "contact", "data_type": "string"},
        headers={"Authorization": f"Bearer {INTERCOM_TOKEN}"},
    ).raise_for_status()

    code, output = loop.cli("intercom-setup")

    assert code == 1
    assert "stripe_ltv" in output and "TYPE MISMATCH: Intercom has string" in output


def intercom_api(loop: Loop, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = HTTP.request(
        method,
        f"{loop.intercom.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {INTERCOM_TOKEN}"},
    )
    response.raise_for_status()
    return response.json()


def test_setup_creates_stripe_id_first_and_nothing_writable_from_the_messenger(make_loop) -> None:
    loop = make_loop(setup=False)
    # A workspace without our attributes at all (the demo seeds stripe_id).
    state = loop.intercom.state
    with state.lock:
        state.data_attributes[:] = [a for a in state.data_attributes if a["name"] != "stripe_id"]

    code, output = loop.cli("intercom-setup")

    assert code == 0, output
    creates = [r for r in loop.writes() if r["path"] == "/data_attributes"]
    assert len(creates) == 15  # the default allowlist, stripe_id included
    assert creates[0]["body"]["name"] == "stripe_id"
    # Asked for explicitly: not left to whatever the workspace's default is.
    assert all(r["body"]["messenger_writable"] is False for r in creates)
    attributes = contact_attributes(loop)
    assert attributes["stripe_id"]["messenger_writable"] is False
    assert not [name for name, a in attributes.items() if a["messenger_writable"]]


def test_setup_reports_an_attribute_of_ours_a_visitor_could_set_and_protect_fixes_it(
    make_loop,
) -> None:
    loop = make_loop(setup=False)
    # Someone made the seeded stripe_id writable from the Messenger, and created stripe_ltv so.
    stripe_id = contact_attributes(loop)["stripe_id"]
    intercom_api(loop, "PUT", f"/data_attributes/{stripe_id['id']}", {"messenger_writable": True})
    intercom_api(
        loop,
        "POST",
        "/data_attributes",
        {
            "name": "stripe_ltv",
            "model": "contact",
            "data_type": "float",
            "messenger_writable": True,
        },
    )

    code, output = loop.cli("intercom-setup")

    assert code == 1
    flagged = [line for line in output.splitlines() if "WRITABLE FROM THE MESSENGER" in line]
    assert [line.split()[0] for line in flagged] == ["stripe_id", "stripe_ltv"]
    assert "--protect" in flagged[0]
    assert contact_attributes(loop)["stripe_id"]["messenger_writable"] is True  # only reported

    code, output = loop.cli("intercom-setup", "--protect")

    assert code == 0, output
    attributes = contact_attributes(loop)
    assert attributes["stripe_id"]["messenger_writable"] is False
    assert attributes["stripe_ltv"]["messenger_writable"] is False
    assert output.count("made not writable from the Messenger") == 2

    code, output = loop.cli("intercom-setup")

    assert code == 0 and "WRITABLE" not in output
