"""Small fake workspace data, shaped like the examples in Intercom's OpenAPI descriptions.

Every body built here must validate against the response schema of the route that returns it, for every
version the sandbox claims; `tests/contract/` enforces that. Ids are fixed so tests can name existing and
impossible records; the "impossible" ids the validator probes with (`0`, made-up hex) never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validator.sandbox.config import AdminConfig, WorkspaceConfig

JsonObject = dict[str, Any]

CREATED_AT = 1734537243
CONTACT_IDS = ("6762f0cd1bb69f9f2193bb7c", "6762f0d01bb69f9f2193bb7d")
COMPANY_IDS = ("6762f0761bb69f9f2193bae2", "6762f0841bb69f9f2193baff")
CONVERSATION_IDS = ("471", "507")
TEAM_ID = "814865"
TAG_IDS = ("102", "103")
CUSTOM_ATTRIBUTE_IDS = (37, 44)


def _list_meta(total: int, per_page: int) -> JsonObject:
    return {"type": "pages", "page": 1, "per_page": per_page, "total_pages": 1 if total else 0}


def contact(workspace: WorkspaceConfig, contact_id: str) -> JsonObject:
    index = CONTACT_IDS.index(contact_id)
    email = f"person{index + 1}@{workspace.id_code}.test"
    empty_list = {"type": "list", "data": [], "total_count": 0, "has_more": False}
    return {
        "type": "contact",
        "id": contact_id,
        "workspace_id": workspace.id_code,
        "external_id": str(70 + index),
        "role": "user" if index == 0 else "lead",
        "email": email,
        "phone": None,
        "name": f"Person {index + 1}",
        "avatar": None,
        "owner_id": None,
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": False,
        "created_at": CREATED_AT + index,
        "updated_at": CREATED_AT + index,
        "signed_up_at": CREATED_AT + index,
        "last_seen_at": None,
        "last_replied_at": None,
        "last_contacted_at": None,
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
        "custom_attributes": {},
        "tags": {**empty_list, "url": f"/contacts/{contact_id}/tags"},
        "notes": {**empty_list, "url": f"/contacts/{contact_id}/notes"},
        "companies": {**empty_list, "url": f"/contacts/{contact_id}/companies"},
    }


def company(workspace: WorkspaceConfig, company_id: str, name: str | None = None) -> JsonObject:
    index = COMPANY_IDS.index(company_id) if company_id in COMPANY_IDS else 0
    return {
        "type": "company",
        "company_id": f"remote-{index + 1}",
        "id": company_id,
        "app_id": workspace.id_code,
        "name": name or f"Company {index + 1}",
        "remote_created_at": CREATED_AT,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "monthly_spend": 0,
        "session_count": 0,
        "user_count": 1,
        "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
        "plan": {},
        "custom_attributes": {},
    }


# `priority` changed vocabulary in 2.16 ("priority"/"not_priority" → "none" ... "urgent").
_NO_PRIORITY = {"2.15": "not_priority"}


def conversation(workspace: WorkspaceConfig, conversation_id: str, version: str) -> JsonObject:
    index = CONVERSATION_IDS.index(conversation_id)
    admin = workspace.admins[0]
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": CREATED_AT + index,
        "updated_at": CREATED_AT + index,
        "waiting_since": None,
        "snoozed_until": None,
        "source": {
            "type": "conversation",
            "id": str(403918320 + index),
            "delivered_as": "admin_initiated",
            "subject": "",
            "body": "<p>this is the message body</p>",
            "author": {"type": "admin", "id": admin.id, "name": admin.name, "email": admin.email},
            "attachments": [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": CONTACT_IDS[index], "external_id": str(70 + index)}],
        },
        "first_contact_reply": None,
        "admin_assignee_id": int(admin.id),
        "team_assignee_id": int(TEAM_ID),
        "open": index == 0,
        "state": "open" if index == 0 else "closed",
        "read": False,
        "tags": {"type": "tag.list", "tags": []},
        "priority": _NO_PRIORITY.get(version, "none"),
        "sla_applied": None,
        "statistics": None,
        "conversation_rating": None,
        "teammates": None,
        "title": None,
        "custom_attributes": {},
        "topics": {},
        "ticket": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent": None,
        "ai_agent_participated": False,
    }


def admin(workspace: WorkspaceConfig, person: AdminConfig, *, away: bool = False) -> JsonObject:
    return {
        "type": "admin",
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "away_mode_enabled": away,
        "away_mode_reassign": False,
        "has_inbox_seat": True,
        "team_ids": [int(TEAM_ID)],
    }


def me(workspace: WorkspaceConfig, person: AdminConfig) -> JsonObject:
    """`GET /me`: the admin the token acts for, with the workspace embedded as `app` (API-NOTES §2)."""
    return {
        "type": "admin",
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "email_verified": True,
        "has_inbox_seat": True,
        "avatar": {"type": "avatar", "image_url": "https://static.intercomassets.com/avatars/128.png"},
        "app": {
            "type": "app",
            "id_code": workspace.id_code,
            "name": workspace.name,
            "created_at": workspace.created_at,
            "secure": False,
            "identity_verification": False,
            "timezone": workspace.timezone,
            "region": workspace.region.value,
        },
    }


def team(workspace: WorkspaceConfig) -> JsonObject:
    return {
        "type": "team",
        "id": TEAM_ID,
        "name": "Support",
        "admin_ids": [int(a.id) for a in workspace.admins],
    }


def tag(tag_id: str) -> JsonObject:
    return {"type": "tag", "id": tag_id, "name": f"Manual tag {TAG_IDS.index(tag_id) + 1}"}


def data_attribute(model: str, name: str, data_type: str, *, custom_id: int | None = None) -> JsonObject:
    attribute: JsonObject = {
        "type": "data_attribute",
        "name": name,
        "full_name": f"custom_attributes.{name}" if custom_id is not None else name,
        "label": name.replace("_", " ").capitalize(),
        "description": f"The {name.replace('_', ' ')}",
        "data_type": data_type,
        "api_writable": True,
        "ui_writable": custom_id is not None,
        "messenger_writable": False,
        "custom": custom_id is not None,
        "archived": False,
        "model": model,
    }
    if custom_id is not None:
        attribute.update({"id": custom_id, "created_at": CREATED_AT, "updated_at": CREATED_AT})
    return attribute


DATA_ATTRIBUTES: tuple[JsonObject, ...] = (
    data_attribute("contact", "email", "string"),
    data_attribute("contact", "signed_up_at", "date"),
    data_attribute("contact", "paid_subscriber", "boolean", custom_id=CUSTOM_ATTRIBUTE_IDS[0]),
    data_attribute("company", "name", "string"),
    data_attribute("company", "monthly_spend", "float"),
    data_attribute("company", "tier", "string", custom_id=CUSTOM_ATTRIBUTE_IDS[1]),
)


@dataclass(frozen=True)
class Listing:
    """What the list endpoints return for one workspace, honouring `per_page`."""

    workspace: WorkspaceConfig

    def contacts(self, per_page: int) -> JsonObject:
        data = [contact(self.workspace, cid) for cid in CONTACT_IDS][:per_page]
        return {
            "type": "list",
            "data": data,
            "total_count": len(CONTACT_IDS),
            "pages": _list_meta(len(CONTACT_IDS), per_page),
        }

    def companies(self, per_page: int) -> JsonObject:
        data = [company(self.workspace, cid) for cid in COMPANY_IDS][:per_page]
        return {
            "type": "list",
            "data": data,
            "pages": {**_list_meta(len(COMPANY_IDS), per_page), "next": None},
            "total_count": len(COMPANY_IDS),
        }

    def conversations(self, per_page: int, version: str) -> JsonObject:
        data = [conversation(self.workspace, cid, version) for cid in CONVERSATION_IDS][:per_page]
        return {
            "type": "conversation.list",
            "pages": _list_meta(len(CONVERSATION_IDS), per_page),
            "total_count": len(CONVERSATION_IDS),
            "conversations": data,
        }

    def admins(self) -> JsonObject:
        return {"type": "admin.list", "admins": [admin(self.workspace, a) for a in self.workspace.admins]}

    def teams(self) -> JsonObject:
        return {"type": "team.list", "teams": [team(self.workspace)]}

    def tags(self) -> JsonObject:
        return {"type": "list", "data": [tag(tid) for tid in TAG_IDS]}

    def data_attributes(self, model: str | None) -> JsonObject:
        data = [a for a in DATA_ATTRIBUTES if model is None or a["model"] == model]
        return {"type": "list", "data": data}

    def counts(self) -> JsonObject:
        """The legacy `count.hash` of `GET /counts` (API-NOTES §5; only documented up to 2.4)."""
        return {
            "type": "count.hash",
            "company": {"count": len(COMPANY_IDS)},
            "user": {"count": sum(1 for i in range(len(CONTACT_IDS)) if i == 0)},
            "lead": {"count": sum(1 for i in range(len(CONTACT_IDS)) if i != 0)},
            "tag": {"count": len(TAG_IDS)},
            "segment": {"count": 0},
        }


# --- the help-desk data (API-NOTES §8) -------------------------------------------------------------------
# Each body validates against its route's response schema in 2.15 and 2.16. Tickets leave out
# admin_assignee_id / team_assignee_id: strings in 2.15, integers in 2.16.

TICKET_IDS = ("633",)
ARTICLE_IDS = ("39",)
COLLECTION_IDS = ("159",)
HELP_CENTER_ID = "79"
SEGMENT_ID = "6762f25c1bb69f9f2193bc22"
_TICKET_TYPE_ID = "67"

_TICKET_STATE: JsonObject = {
    "type": "ticket_state",
    "id": "8321",
    "category": "submitted",
    "internal_label": "Submitted",
    "external_label": "Submitted",
}


def _ticket_type(workspace: WorkspaceConfig) -> JsonObject:
    return {
        "type": "ticket_type",
        "id": _TICKET_TYPE_ID,
        "name": "Bug Report",
        "description": "Bug Report Template",
        "icon": "🎟️",
        "workspace_id": workspace.id_code,
        "archived": False,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "category": "Customer",
        "ticket_type_attributes": {"type": "list", "data": []},
    }


def ticket(workspace: WorkspaceConfig, ticket_id: str) -> JsonObject:
    return {
        "type": "ticket",
        "id": ticket_id,
        "ticket_id": "40",
        "category": "Customer",
        "ticket_attributes": {"_default_title_": "Printer on fire", "_default_description_": None},
        "ticket_state": dict(_TICKET_STATE),
        "ticket_type": _ticket_type(workspace),
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": CONTACT_IDS[0], "external_id": "70"}],
        },
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "open": True,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [], "total_count": 0},
        "is_shared": False,
    }


def ticket_list(tickets: list[JsonObject], per_page: int) -> JsonObject:
    """`POST /tickets/search`."""
    return {
        "type": "ticket.list",
        "pages": _list_meta(len(tickets), per_page),
        "total_count": len(tickets),
        "tickets": tickets[:per_page],
    }


def ticket_types(workspace: WorkspaceConfig) -> JsonObject:
    listed = {**_ticket_type(workspace), "is_internal": False}
    listed["ticket_states"] = {"type": "list", "data": [dict(_TICKET_STATE)]}
    return {"type": "list", "data": [listed]}


def ticket_states() -> JsonObject:
    linked = {
        "type": "ticket_type",
        "id": _TICKET_TYPE_ID,
        "name": "Bug Report",
        "description": "Bug Report Template",
        "icon": "🎟️",
        "archived": False,
        "is_internal": False,
        "category": "Customer",
    }
    state = {**_TICKET_STATE, "archived": False, "ticket_types": {"type": "list", "data": [linked]}}
    return {"type": "list", "data": [state]}


def article(workspace: WorkspaceConfig, article_id: str) -> JsonObject:
    return {
        "id": article_id,
        "type": "article",
        "workspace_id": workspace.id_code,
        "parent_ids": [],
        "tags": {"type": "tag.list", "tags": []},
        "title": "This is the article title",
        "description": "",
        "body": "",
        "author_id": int(workspace.admins[0].id),
        "state": "published",
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "url": f"http://help-center.test/{workspace.id_code}/en/articles/{article_id}-this-is-the-article-title",
    }


def articles(workspace: WorkspaceConfig) -> JsonObject:
    return {
        "type": "list",
        "pages": _list_meta(len(ARTICLE_IDS), 25),
        "total_count": len(ARTICLE_IDS),
        "data": [article(workspace, article_id) for article_id in ARTICLE_IDS],
    }


def applied_tag(tag_id: str, admin_id: str) -> JsonObject:
    """`POST /articles/{id}/tags` (schema `tag`)."""
    return {**tag(tag_id), "applied_at": CREATED_AT, "applied_by": {"type": "admin", "id": admin_id}}


def collection(workspace: WorkspaceConfig, collection_id: str) -> JsonObject:
    return {
        "id": collection_id,
        "workspace_id": workspace.id_code,
        "name": "English collection title",
        "url": f"http://help-center.test/{workspace.id_code}/collection-17",
        "order": 17,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "description": "english collection description",
        "icon": "bookmark",
        "parent_id": None,
        "help_center_id": int(HELP_CENTER_ID),
    }


def collections(workspace: WorkspaceConfig) -> JsonObject:
    return {
        "type": "list",
        "data": [collection(workspace, collection_id) for collection_id in COLLECTION_IDS],
        "total_count": len(COLLECTION_IDS),
        "pages": _list_meta(len(COLLECTION_IDS), 20),
    }


def help_centers(workspace: WorkspaceConfig) -> JsonObject:
    center = {
        "id": HELP_CENTER_ID,
        "workspace_id": workspace.id_code,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "identifier": "help-center-1",
        "website_turned_on": False,
        "display_name": "Help Center",
    }
    return {"type": "list", "data": [center]}


def note(person: AdminConfig, *, contact_id: str | None = None, company_id: str | None = None) -> JsonObject:
    owner = (
        {"contact": {"type": "contact", "id": contact_id}}
        if contact_id is not None
        else {"company": {"type": "company", "id": company_id}}
    )
    return {
        "type": "note",
        "id": "31",
        "created_at": CREATED_AT,
        **owner,
        "author": {
            "type": "admin",
            "id": person.id,
            "name": person.name,
            "email": person.email,
            "away_mode_enabled": False,
            "away_mode_reassign": False,
        },
        "body": "<p>Hello</p>",
    }


def note_list() -> JsonObject:
    return {
        "type": "list",
        "data": [],
        "total_count": 0,
        "pages": {"type": "pages", "next": None, "page": 1, "per_page": 50, "total_pages": 0},
    }


def segments() -> JsonObject:
    segment = {
        "type": "segment",
        "id": SEGMENT_ID,
        "name": "John segment",
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "person_type": "user",
    }
    return {"type": "segment.list", "segments": [segment]}


def activity_logs(person: AdminConfig, after: int, before: int | None) -> JsonObject:
    """The entries of `GET /admins/activity_logs` whose created_at falls in [after, before]."""
    created_at = CREATED_AT + 10
    entries: list[JsonObject] = [
        {
            "id": "fca05814-4b72-4dce-ad4f-77a786a2c136",
            "performed_by": {"type": "admin", "id": person.id, "email": person.email, "ip": "127.0.0.1"},
            "metadata": {"away_mode": True, "reassign_conversations": False},  # not the example's strings
            "created_at": created_at,
            "activity_type": "admin_away_mode_change",
            "activity_description": f"{person.name} changed their away mode.",
        }
    ]
    kept = entries if created_at >= after and (before is None or created_at <= before) else []
    return {
        "type": "activity_log.list",
        "pages": {"type": "pages", "next": None, "page": 1, "per_page": 20, "total_pages": 1},
        "activity_logs": kept,
    }


def event_summary(identifier: str, value: str) -> JsonObject:
    """`GET /events` for one user: the sandbox records no data events."""
    return {"type": "event.summary", "events": [], identifier: value}
