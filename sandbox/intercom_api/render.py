"""Sandbox objects as Intercom 2.14 answers them: contacts, tags, notes, admins, conversations,
data attributes (shapes from the spec's schemas, so the official SDK parses them)."""

from __future__ import annotations

from typing import Any

from .state import WORKSPACE_ID, IntercomState


def html_body(text: str | None) -> str | None:
    """Intercom stores plain-text note/reply bodies as a paragraph."""
    if text is None:
        return None
    return text if text.lstrip().startswith("<") else f"<p>{text}</p>"


def render_contact(state: IntercomState, contact: dict[str, Any]) -> dict[str, Any]:
    """Full ``contact`` object as GET /contacts/{id} returns it in 2.14."""
    cid = contact["id"]
    email = contact["email"]
    tag_ids = list(state.contact_tags.get(cid, {}))
    note_ids = [n["id"] for n in state.notes if n["contact_id"] == cid]

    def sub_list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "type": "list",
            "data": items,
            "url": f"/contacts/{cid}/{kind}",
            "total_count": len(items),
            "has_more": False,
        }

    return {
        "type": "contact",
        "id": cid,
        "workspace_id": WORKSPACE_ID,
        "external_id": contact["external_id"],
        "role": contact["role"],
        "email": email,
        "email_domain": email.split("@", 1)[1] if email and "@" in email else None,
        "phone": contact["phone"],
        "name": contact["name"],
        "avatar": None,
        "owner_id": contact["owner_id"],
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": contact["unsubscribed_from_emails"],
        "created_at": contact["created_at"],
        "updated_at": contact["updated_at"],
        "signed_up_at": contact["signed_up_at"],
        "last_seen_at": contact["last_seen_at"],
        "last_replied_at": contact["last_replied_at"],
        "last_contacted_at": contact["last_contacted_at"],
        "last_email_opened_at": None,
        "last_email_clicked_at": None,
        "language_override": None,
        "browser": None,
        "browser_version": None,
        "browser_language": None,
        "os": None,
        "location": {
            "type": "location",
            "country": None,
            "region": None,
            "city": None,
            "country_code": None,
            "continent_code": None,
        },
        "android_app_name": None,
        "android_app_version": None,
        "android_device": None,
        "android_os_version": None,
        "android_sdk_version": None,
        "android_last_seen_at": None,
        "ios_app_name": None,
        "ios_app_version": None,
        "ios_device": None,
        "ios_os_version": None,
        "ios_sdk_version": None,
        "ios_last_seen_at": None,
        "custom_attributes": dict(contact["custom_attributes"]),
        "tags": sub_list(
            "tags", [{"type": "tag", "id": tid, "url": f"/tags/{tid}"} for tid in tag_ids]
        ),
        "notes": sub_list(
            "notes", [{"type": "note", "id": nid, "url": f"/notes/{nid}"} for nid in note_ids]
        ),
        "companies": sub_list("companies", []),
        "opted_out_subscription_types": sub_list("subscriptions", []),
        "opted_in_subscription_types": sub_list("subscriptions", []),
        "utm_campaign": None,
        "utm_content": None,
        "utm_medium": None,
        "utm_source": None,
        "utm_term": None,
        "referrer": None,
        "enabled_push_messaging": None,
    }


def render_applied_tag(
    state: IntercomState, tag_id: str, applied: dict[str, Any]
) -> dict[str, Any]:
    """``tag`` schema including when and by whom it was applied to a contact."""
    tag = state.tags[tag_id]
    return {
        "type": "tag",
        "id": tag["id"],
        "name": tag["name"],
        "applied_at": applied["applied_at"],
        "applied_by": {"type": "admin", "id": applied["applied_by"]},
    }


def render_data_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attribute.items() if k != "requested_data_type"}


def render_note(state: IntercomState, note: dict[str, Any]) -> dict[str, Any]:
    author = state.admins.get(note["admin_id"])
    return {
        "type": "note",
        "id": note["id"],
        "created_at": note["created_at"],
        "contact": {"type": "contact", "id": note["contact_id"]},
        "author": author,
        "body": note["body"],
    }


def render_admin_with_app(state: IntercomState, admin: dict[str, Any]) -> dict[str, Any]:
    rendered = {k: v for k, v in admin.items() if k != "avatar"}
    rendered["avatar"] = {"type": "avatar", "image_url": None}
    rendered["email_verified"] = True
    rendered["app"] = dict(state.app) or None
    return rendered


def render_conversation(state: IntercomState, conversation: dict[str, Any]) -> dict[str, Any]:
    """``conversation`` object with its parts, shaped like the 2.14 examples."""
    contact = state.contacts.get(conversation["contact_id"], {})
    user_author = {
        "type": contact.get("role", "user"),
        "id": conversation["contact_id"],
        "name": contact.get("name"),
        "email": contact.get("email"),
    }
    first_reply = next((p for p in conversation["parts"] if p["author"]["type"] != "admin"), None)
    state_name = conversation["state"]
    return {
        "type": "conversation",
        "id": conversation["id"],
        "title": None,
        "created_at": conversation["created_at"],
        "updated_at": conversation["updated_at"],
        "waiting_since": conversation["waiting_since"],
        "snoozed_until": None,
        "open": state_name == "open",
        "state": state_name,
        "read": conversation["read"],
        "priority": "not_priority",
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "tags": {"type": "tag.list", "tags": []},
        "conversation_rating": None,
        "source": {
            "type": "conversation",
            "id": conversation["source_id"],
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": html_body(conversation["source_body"]),
            "author": user_author,
            "attachments": [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": conversation["contact_id"],
                    "external_id": contact.get("external_id"),
                }
            ],
        },
        "teammates": None,
        "custom_attributes": {},
        "topics": {},
        "ticket": None,
        "first_contact_reply": (
            {"created_at": first_reply["created_at"], "type": "conversation", "url": None}
            if first_reply
            else None
        ),
        "sla_applied": None,
        "statistics": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": False,
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": list(conversation["parts"]),
            "total_count": len(conversation["parts"]),
        },
    }
