"""Seed the sandbox Intercom with the demo world (docs/demo-world.md, "Intercom contacts").

One ``user`` contact per Stripe demo customer (same email, ``external_id`` = Stripe
``metadata.user_id``), plus ``contact_nobody`` who has no Stripe customer. Only ``stripe_id`` exists as
a custom attribute, so ``intercom-setup`` still has attributes to create.
"""

from __future__ import annotations

from .state import IntercomState

DAY = 86_400

ADMIN_ID = "admin_1"

# key, name, email, external_id, age in days, opening message of their conversation.
# ``contact_nobody`` has neither name nor external_id in the demo world, so none are invented.
DEMO_CONTACTS: list[tuple[str, str | None, str, str | None, int, str]] = [
    (
        "healthy",
        "Anna Becker",
        "anna@example.com",
        "usr_anna",
        425,
        "Hi! Could you send me a copy of my last invoice?",
    ),
    (
        "sepa",
        "Müller Maschinenbau GmbH",
        "buchhaltung@mueller-maschinenbau.de",
        "usr_mueller",
        200,
        "Warum ist unsere letzte Lastschrift fehlgeschlagen?",
    ),
    (
        "trial",
        "Jonas Schmidt",
        "jonas@startup.example",
        "usr_jonas",
        12,
        "What happens when my trial ends?",
    ),
    (
        "vip",
        "Lena Fischer",
        "lena@fischer-digital.example",
        "usr_lena",
        100,
        "We'd like to talk about a yearly plan.",
    ),
    (
        "usage",
        "Paul Wagner",
        "paul@wagner-cloud.example",
        "usr_paul",
        70,
        "Am I close to my API call limit this month?",
    ),
    (
        "shared_a",
        "Team Alpha",
        "shared@agency.example",
        "usr_alpha",
        75,
        "Which of our subscriptions is this email on?",
    ),
    (
        "shared_b",
        "Team Beta",
        "shared@agency.example",
        "usr_beta",
        220,
        "Can we reactivate our old subscription?",
    ),
    (
        "loyal",
        "Schulz Logistik GmbH",
        "rechnung@schulz-logistik.example",
        "usr_schulz",
        700,
        "Können Sie mir alle Rechnungen des letzten Jahres schicken?",
    ),
    (
        "multi",
        "Weber Design Studio GmbH",
        "klara@weber-design.example",
        "usr_klara",
        95,
        "We have two subscriptions with you, Pro and Priority support. Which one is billed when?",
    ),
    (
        "nobody",
        None,
        "nobody@example.com",
        None,
        5,
        "Hello, do you offer a free plan?",
    ),
]


def seed_demo_workspace(state: IntercomState) -> IntercomState:
    """Fill ``state`` with the demo workspace; ``state.reset()`` re-runs this afterwards."""
    with state.lock:
        now = state.now()
        state.app.update(
            {
                "type": "app",
                "id_code": "sandboxapp",
                "name": "Sandbox Workspace",
                "created_at": now - 500 * DAY,
                "secure": False,
                "identity_verification": False,
                "timezone": "Europe/Berlin",
                "region": "EU",
            }
        )
        state.add_admin(ADMIN_ID, "Sam Support", "sam@support.example")
        state.define_attribute(
            "stripe_id",
            "string",
            description="Stripe customer id (cus_...)",
            admin_id=ADMIN_ID,
        )
        for key, name, email, external_id, age_days, opening in DEMO_CONTACTS:
            contact_id = f"contact_{key}"
            custom = {"stripe_id": "cus_DemoHealthy"} if key == "healthy" else {}
            state.add_contact(
                contact_id,
                email=email,
                name=name,
                external_id=external_id,
                custom_attributes=custom,
                created_at=now - age_days * DAY,
            )
            state.add_conversation(f"conv_{key}", contact_id, opening, created_at=now - 3600)
        state.seeded_with = seed_demo_workspace
    return state
