"""What each write route accepts as its body: small rules after Intercom's request schemas (API-NOTES §5).

Written by hand from the request schemas of the OpenAPI description 2.15 and 2.16 (MIT, Copyright (c)
Intercom, Inc.), independently of the validator's catalog, so that the sandbox can catch a probe whose body
the catalog got wrong. A body that its route's schema refuses (not a JSON object, a field of the wrong type,
a required field missing) answers 400 `parameter_invalid` in Intercom's error envelope, with a message in
the style of the documented one, "Options isn't an array" (PUT /data_attributes/{id}, [EX]); the wording
for other fields is [INF]. Where a route documents its own answer (POST /contacts/{id}/companies without a
company: 400 `parameter_not_found` "company not specified" [EX]; POST /tags without a name), its handler
keeps that answer.

Choices [INF]:
* Defaults the schema documents are filled in before checking, as a server applies them: `{}` on
  PUT /admins/{id}/away means away_mode_enabled=true, a valid request that changes data (flagged as a
  mutation), while null is neither true nor false and is refused.
* Fields the schema does not list are allowed, as the schemas allow them (none sets
  `additionalProperties: false`); POST /companies is the exception Intercom documents (400 `bad_request`
  "bad 'test' parameter" [EX]), kept by its handler.
* The rules follow the schemas, which may be stricter than Intercom's parsers; one exception each way where
  the description's own examples disagree with its schema: ids in POST /conversations/{id}/parts may be
  integers (every example sends `"admin_id": 991267708`), and a conversation's custom attribute may be a
  list (`{"order": ["21"]}`). `owner_id` on PUT /contacts/{id} is an integer in 2.15 and a string in 2.16:
  either is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from validator.sandbox.wire import Answer, JsonObject, error


@dataclass(frozen=True)
class Kind:
    """A JSON type as a schema names it, and how a message names it ("a string")."""

    name: str
    check: Callable[[Any], bool]


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


STRING = Kind("a string", lambda v: isinstance(v, str))
INTEGER = Kind("an integer", _integer)
BOOLEAN = Kind("a boolean", lambda v: isinstance(v, bool))
OBJECT = Kind("an object", lambda v: isinstance(v, dict))
ARRAY = Kind("an array", lambda v: isinstance(v, list))
ID = Kind("a string or an integer", lambda v: isinstance(v, str) or _integer(v))
# A conversation's custom attribute: string, integer (dates too), a list (documented example) or the
# custom object instances object.
ATTRIBUTE = Kind(
    "a string, an integer, a list or an object",
    lambda v: isinstance(v, str | list | dict) or _integer(v),
)
OPTION = Kind(
    "an object with a string value", lambda v: isinstance(v, dict) and isinstance(v.get("value"), str)
)


@dataclass(frozen=True)
class Field:
    kind: Kind
    nullable: bool = False
    items: Kind | None = None  # every value of an object, every item of an array
    one_of: tuple[str, ...] = ()  # an enum


@dataclass(frozen=True)
class BodyRule:
    """The schema of one route's body: its fields, which are required, and the defaults it documents."""

    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    nullable: bool = False  # a JSON null body reads as {} (the company schemas are `nullable: true`)

    def read(self, raw: bytes) -> JsonObject | Answer:
        """The body with defaults filled in, or the 400 that refuses it."""
        body = parse(raw, nullable=self.nullable)
        if isinstance(body, Answer):
            return body
        filled = {**self.defaults, **body}
        problem = self.problem(filled)
        return filled if problem is None else invalid(problem)

    def problem(self, body: JsonObject) -> str | None:
        """Why the schema refuses `body` (an object), in one sentence; None when it accepts it."""
        for name in self.required:
            if name not in body:
                return f"{_label(name)} can't be blank"
        for name, rule in self.fields.items():
            if name in body:
                problem = field_problem(name, rule, body[name])
                if problem is not None:
                    return problem
        return None


def field_problem(name: str, rule: Field, value: Any) -> str | None:
    """Why `value` is not what field `name` takes; None when it is."""
    if value is None:
        return None if rule.nullable else f"{_label(name)} isn't {rule.kind.name}"
    if not rule.kind.check(value):
        return f"{_label(name)} isn't {rule.kind.name}"
    if rule.one_of and value not in rule.one_of:
        return f"{_label(name)} isn't one of {', '.join(rule.one_of)}"
    if rule.items is not None:
        members = value.values() if isinstance(value, dict) else value
        if not all(rule.items.check(member) for member in members):
            return f"every value of {_label(name).lower()} must be {rule.items.name}"
    return None


def parse(raw: bytes, *, nullable: bool = False) -> JsonObject | Answer:
    """A request body as a JSON object ({} when empty), or the 400 Intercom answers to anything else."""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return invalid("The request body isn't valid JSON")  # [INF]
    if parsed is None and nullable:
        return {}
    if not isinstance(parsed, dict):
        return invalid("The request body isn't a JSON object")  # [INF]
    return parsed


def invalid(message: str) -> Answer:
    return error(400, "parameter_invalid", message)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


# The routes' rules ------------------------------------------------------------------------------------

UPDATE_CONTACT = BodyRule(
    {
        "avatar": Field(STRING, nullable=True),
        "custom_attributes": Field(OBJECT, nullable=True),
        "email": Field(STRING),
        "email_verified": Field(BOOLEAN, nullable=True),  # 2.16
        "external_id": Field(STRING),
        "last_seen_at": Field(INTEGER, nullable=True),
        "name": Field(STRING, nullable=True),
        "owner_id": Field(ID, nullable=True),
        "phone": Field(STRING, nullable=True),
        "role": Field(STRING),
        "signed_up_at": Field(INTEGER, nullable=True),
        "unsubscribed_from_emails": Field(BOOLEAN, nullable=True),
    }
)

# `id` is required; its absence has a documented answer of its own, given by the handler.
ATTACH_COMPANY = BodyRule({"id": Field(STRING)})

_COMPANY = {
    "custom_attributes": Field(OBJECT, items=STRING),
    "industry": Field(STRING),
    "monthly_spend": Field(INTEGER),
    "name": Field(STRING),
    "plan": Field(STRING),
    "size": Field(INTEGER),
    "website": Field(STRING),
}
CREATE_COMPANY = BodyRule(
    {
        **_COMPANY,
        "company_id": Field(STRING),
        "remote_created_at": Field(INTEGER),
        "update_last_request_at": Field(BOOLEAN),  # 2.16
    },
    nullable=True,
)
UPDATE_COMPANY = BodyRule(_COMPANY, nullable=True)

UPDATE_CONVERSATION = BodyRule(
    {
        "company_id": Field(STRING),
        "custom_attributes": Field(OBJECT, items=ATTRIBUTE),
        "read": Field(BOOLEAN),
        "title": Field(STRING),
    }
)

# POST /conversations: a message from a contact; `from` is judged by the handler (its contact first).
CREATE_CONVERSATION = BodyRule(
    {
        "from": Field(OBJECT),
        "body": Field(STRING),
        "subject": Field(STRING),
        "attachment_urls": Field(ARRAY, items=STRING),
        "created_at": Field(INTEGER),
        "brand_id": Field(STRING),  # 2.16
    },
    required=("from", "body"),
)

# POST /conversations/{id}/parts: one schema per message_type (oneOf in the description).
CONVERSATION_ACTIONS: dict[str, BodyRule] = {
    "close": BodyRule(
        {"type": Field(STRING, one_of=("admin",)), "admin_id": Field(ID), "body": Field(STRING)},
        required=("type", "admin_id"),
    ),
    "snoozed": BodyRule(
        {"admin_id": Field(ID), "snoozed_until": Field(INTEGER)}, required=("admin_id", "snoozed_until")
    ),
    "open": BodyRule({"admin_id": Field(ID)}, required=("admin_id",)),
    "assignment": BodyRule(
        {
            "type": Field(STRING, one_of=("admin", "team")),
            "admin_id": Field(ID),
            "assignee_id": Field(ID),
            "body": Field(STRING),
        },
        required=("type", "admin_id", "assignee_id"),
    ),
}
CONVERSATION_ACTION = BodyRule(
    {"message_type": Field(STRING, one_of=tuple(CONVERSATION_ACTIONS))}, required=("message_type",)
)

SET_AWAY = BodyRule(
    {
        "away_mode_enabled": Field(BOOLEAN),
        "away_mode_reassign": Field(BOOLEAN),
        "away_status_reason_id": Field(INTEGER),
    },
    required=("away_mode_enabled", "away_mode_reassign"),
    defaults={"away_mode_enabled": True, "away_mode_reassign": False},
)

# The rest of POST /tags is judged by its handler ("invalid tag parameters" [EX]).
CREATE_TAG = BodyRule({})

CREATE_DATA_ATTRIBUTE = BodyRule(
    {
        "description": Field(STRING),
        "messenger_writable": Field(BOOLEAN),
        "options": Field(ARRAY, items=OPTION),
    }
)  # model, name and data_type have documented messages of their own, given by the handler

UPDATE_DATA_ATTRIBUTE = BodyRule(
    {
        "archived": Field(BOOLEAN),
        "description": Field(STRING),
        "messenger_writable": Field(BOOLEAN),
        "options": Field(ARRAY, items=OPTION),
    }
)

# The help-desk routes (API-NOTES §8) ----------------------------------------------------------------------

# PUT /tickets/{id}: update_ticket_request, plus skip_notifications; nothing required.
UPDATE_TICKET = BodyRule(
    {
        "ticket_attributes": Field(OBJECT),
        "ticket_state_id": Field(STRING),
        "company_id": Field(STRING),
        "open": Field(BOOLEAN),
        "is_shared": Field(BOOLEAN),
        "snoozed_until": Field(INTEGER),
        "admin_id": Field(INTEGER),
        "assignee_id": Field(STRING),
        "skip_notifications": Field(BOOLEAN),
    }
)

# POST /tickets/{id}/linked_conversations (2.16): `conversation_id` is required; its absence has a
# documented answer of its own (400 parameter_not_found "conversation_id not specified"), given by the
# handler.
LINK_CONVERSATION = BodyRule({"conversation_id": Field(STRING)})

# PUT /articles/{id}: update_article_request (2.16 adds fields; the shared ones are checked).
UPDATE_ARTICLE = BodyRule(
    {
        "title": Field(STRING),
        "description": Field(STRING),
        "body": Field(STRING),
        "author_id": Field(INTEGER),
        "state": Field(STRING),
        "parent_id": Field(STRING),
        "parent_type": Field(STRING),
        "translated_content": Field(OBJECT, nullable=True),
    }
)

# POST /articles/{id}/tags (2.16): `id` (the tag) is required; no 400 is documented, so a missing or
# unknown tag answers the documented 404 tag_not_found, given by the handler.
TAG_ARTICLE = BodyRule({"id": Field(STRING), "admin_id": Field(STRING, nullable=True)})

# PUT /help_center/collections/{id}: update_collection_request.
UPDATE_COLLECTION = BodyRule(
    {
        "name": Field(STRING),
        "description": Field(STRING),
        "translated_content": Field(OBJECT, nullable=True),
        "parent_id": Field(STRING, nullable=True),
    }
)

# POST /contacts/{id}/notes and POST /companies/{id}/notes (2.16): `body` is required.
CREATE_NOTE = BodyRule({"body": Field(STRING), "admin_id": Field(STRING)}, required=("body",))
