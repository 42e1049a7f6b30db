"""The endpoints (API-NOTES §5): what each route answers once a request may call it.

Answers follow the OpenAPI examples; bodies come from `fixtures`. A write that would succeed answers 200
with `mutation=True` (the request log flags it) while the data stays unchanged. Every write handler judges
in the same order (see `app` for the steps before): the object its path names first (one that does not
exist → its documented 404, whatever the body), then the body against the route's request schema
(`bodies`: refused → 400, nothing recorded as a mutation), and only then the write. `HANDLERS` is keyed by
the route keys of `permissions.ROUTES`, the sandbox's own route table, written independently of the
validator's catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from validator.sandbox import bodies, fixtures
from validator.sandbox.config import AdminConfig, TokenConfig, WorkspaceConfig
from validator.sandbox.permissions import Route
from validator.sandbox.wire import Answer, SandboxRequest, error


@dataclass(frozen=True)
class Call:
    """A request that passed authentication, version and permission checks."""

    request: SandboxRequest
    route: Route
    record_id: str | None
    token: TokenConfig
    workspace: WorkspaceConfig
    admin: AdminConfig
    version: str  # the body is read by each handler, after its id (see `bodies`)


def _per_page(request: SandboxRequest, default: int) -> int:
    try:
        return max(1, min(150, int(request.param("per_page") or default)))
    except ValueError:
        return default


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _me(call: Call) -> Answer:
    return Answer(200, fixtures.me(call.workspace, call.admin))


def _list_contacts(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).contacts(_per_page(call.request, 50)))


def _contact_not_found() -> Answer:
    # Undocumented for these routes (only 200/401 are): the contract test allowlists it [INF].
    return error(404, "not_found", "User Not Found")


def _get_contact(call: Call) -> Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return _contact_not_found()
    return Answer(200, fixtures.contact(call.workspace, call.record_id))


def _update_contact(call: Call) -> Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return _contact_not_found()
    body = bodies.UPDATE_CONTACT.read(call.request.body)
    if isinstance(body, Answer):
        return body
    updated = fixtures.contact(call.workspace, call.record_id)
    updated.update({k: v for k, v in body.items() if k in ("name", "email") and isinstance(v, str)})
    return Answer(200, updated, mutation=True)


def _attach_contact_to_company(call: Call) -> Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return error(404, "not_found", "User Not Found")
    body = bodies.ATTACH_COMPANY.read(call.request.body)
    if isinstance(body, Answer):
        return body
    company_id = body.get("id")
    if company_id is None or (isinstance(company_id, str) and not company_id.strip()):
        return error(400, "parameter_not_found", "company not specified")
    if company_id not in fixtures.COMPANY_IDS:
        return error(404, "company_not_found", "Company Not Found")
    return Answer(200, fixtures.company(call.workspace, str(company_id)), mutation=True)


def _list_companies(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).companies(_per_page(call.request, 15)))


_COMPANY_FIELDS = frozenset(
    {
        "name",
        "company_id",
        "plan",
        "size",
        "website",
        "industry",
        "custom_attributes",
        "remote_created_at",
        "monthly_spend",
        "update_last_request_at",  # 2.16
    }
)


def _create_or_update_company(call: Call) -> Answer:
    body = bodies.parse(call.request.body, nullable=True)
    if isinstance(body, Answer):
        return body
    unknown = sorted(k for k in body if k not in _COMPANY_FIELDS)
    if unknown:
        return error(400, "bad_request", f"bad '{unknown[0]}' parameter")
    problem = bodies.CREATE_COMPANY.problem(body)
    if problem is not None:
        return bodies.invalid(problem)
    if not _nonempty_str(body.get("company_id")) and not _nonempty_str(body.get("name")):
        return error(400, "bad_request", "company_id or name is required")  # message [INF]
    created = fixtures.company(call.workspace, fixtures.COMPANY_IDS[0], name=body.get("name"))
    created["company_id"] = str(body.get("company_id") or created["company_id"])
    return Answer(200, created, mutation=True)


def _update_company(call: Call) -> Answer:
    if call.record_id not in fixtures.COMPANY_IDS:
        return error(404, "company_not_found", "Company Not Found")
    body = bodies.UPDATE_COMPANY.read(call.request.body)
    if isinstance(body, Answer):
        return body
    name = body.get("name") if _nonempty_str(body.get("name")) else None
    return Answer(200, fixtures.company(call.workspace, call.record_id, name=name), mutation=True)


def _list_conversations(call: Call) -> Answer:
    return Answer(
        200, fixtures.Listing(call.workspace).conversations(_per_page(call.request, 20), call.version)
    )


def _create_conversation(call: Call) -> Answer:
    """A message from a contact. The contact `from` names is the object of this route, so it is looked up
    first, as the path's object is elsewhere: a missing one answers its documented 404 [EX] whatever the
    rest of the body; a `from` that is no object, or without an id, is refused with the body."""
    body = bodies.parse(call.request.body)
    if isinstance(body, Answer):
        return body
    sender = body.get("from")
    sender_id = sender.get("id") if isinstance(sender, dict) else None
    if isinstance(sender_id, str) and sender_id not in fixtures.CONTACT_IDS:
        return error(404, "not_found", "User Not Found")
    problem = bodies.CREATE_CONVERSATION.problem(body)
    if problem is None and not (isinstance(sender, dict) and isinstance(sender_id, str)):
        problem = "From isn't an object with a contact id"  # message [INF]
    if problem is not None:
        return bodies.invalid(problem)
    message = {
        "type": "user_message",
        "id": "403918330",
        "created_at": call.workspace.created_at,
        "body": body["body"],
        "message_type": "inapp",
        "conversation_id": fixtures.CONVERSATION_IDS[0],
    }
    return Answer(200, message, mutation=True)


def _update_conversation(call: Call) -> Answer:
    if call.record_id not in fixtures.CONVERSATION_IDS:
        return error(404, "not_found", "Resource Not Found")
    body = bodies.UPDATE_CONVERSATION.read(call.request.body)
    if isinstance(body, Answer):
        return body
    conversation = fixtures.conversation(call.workspace, call.record_id, call.version)
    if isinstance(body.get("read"), bool):
        conversation["read"] = body["read"]
    return Answer(200, conversation, mutation=True)


def _act_on_conversation(call: Call) -> Answer:
    if call.record_id not in fixtures.CONVERSATION_IDS:
        return error(404, "not_found", "Resource Not Found")
    body = bodies.CONVERSATION_ACTION.read(call.request.body)
    if isinstance(body, Answer):
        return body
    problem = bodies.CONVERSATION_ACTIONS[body["message_type"]].problem(body)
    if problem is not None:
        return bodies.invalid(problem)
    return Answer(200, fixtures.conversation(call.workspace, call.record_id, call.version), mutation=True)


def _list_admins(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).admins())


def _get_admin(call: Call) -> Answer:
    person = call.workspace.admin(call.record_id or "")
    if person is None:
        return error(404, "admin_not_found", "Admin not found")
    return Answer(200, fixtures.admin(call.workspace, person))


def _set_away(call: Call) -> Answer:
    person = call.workspace.admin(call.record_id or "")
    if person is None:
        return error(404, "admin_not_found", "Admin for admin_id not found")
    body = bodies.SET_AWAY.read(call.request.body)  # {} means away_mode_enabled=true, the default
    if isinstance(body, Answer):
        return body
    away = body["away_mode_enabled"] is True
    return Answer(200, fixtures.admin(call.workspace, person, away=away), mutation=True)


def _list_teams(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).teams())


def _list_tags(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).tags())


def _create_tag(call: Call) -> Answer:
    body = bodies.CREATE_TAG.read(call.request.body)
    if isinstance(body, Answer):
        return body
    name = body.get("name")
    if not _nonempty_str(name):
        return error(400, "parameter_invalid", "invalid tag parameters")
    return Answer(200, {"type": "tag", "id": "104", "name": name}, mutation=True)


def _counts(call: Call) -> Answer:
    return Answer(200, fixtures.Listing(call.workspace).counts())


def _list_data_attributes(call: Call) -> Answer:
    model = call.request.param("model")
    if model is not None and model not in ("contact", "company"):
        if call.version != "2.15":
            # 2.16 documents 422 for model=conversation [EX]; other unknown models alike [INF].
            message = (
                "model=conversation is no longer supported. Use GET /conversations/attributes instead"
                if model == "conversation"
                else "model must be contact or company"
            )
            return error(422, "parameter_invalid", message)
        # 2.15 accepts model=conversation; its attributes fall outside the response schema's model enum,
        # so the sandbox lists none [INF].
        return Answer(200, {"type": "list", "data": []})
    return Answer(200, fixtures.Listing(call.workspace).data_attributes(model))


_DATA_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "float",
    "boolean": "boolean",
    "date": "date",
}
_DATA_TYPES |= {"datetime": "date", "options": "string"}


def _create_data_attribute(call: Call) -> Answer:
    body = bodies.CREATE_DATA_ATTRIBUTE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    model, name, data_type = (body.get(k) for k in ("model", "name", "data_type"))
    if model not in ("contact", "company"):
        return error(
            400, "parameter_invalid", "The Data Attribute model field must be either contact or company"
        )
    if not _nonempty_str(name):
        return error(400, "parameter_invalid", "Name can't be blank")  # message [INF]
    if any(a["model"] == model and a["name"] == name for a in fixtures.DATA_ATTRIBUTES):
        return error(
            400,
            "parameter_invalid",
            f"You already have '{name}' in your {model} data. "
            f"To save this as new {model} data, use a different name.",
        )
    if data_type not in _DATA_TYPES:
        return error(400, "parameter_invalid", "Data Type isn't an option")
    if data_type == "options" and not body.get("options"):
        return bodies.invalid("Options isn't an array")  # a list attribute needs its options
    created = fixtures.data_attribute(str(model), str(name), _DATA_TYPES[str(data_type)], custom_id=45)
    created["admin_id"] = call.admin.id
    return Answer(200, created, mutation=True)


def _update_data_attribute(call: Call) -> Answer:
    existing = next(
        (a for a in fixtures.DATA_ATTRIBUTES if "id" in a and str(a["id"]) == call.record_id),
        None,
    )
    if existing is None:
        return error(404, "field_not_found", "We couldn't find that data attribute to update")
    body = bodies.UPDATE_DATA_ATTRIBUTE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    updated = dict(existing)
    if isinstance(body.get("description"), str):
        updated["description"] = body["description"]
    return Answer(200, updated, mutation=True)


# --- the help-desk routes (API-NOTES §8) -----------------------------------------------------------------


def _search_tickets(call: Call) -> Answer:
    """A read: the tickets whose id equals a single `id =` filter; any other query lists them all [INF]."""
    body = bodies.parse(call.request.body)
    query = body.get("query") if isinstance(body, dict) else None
    pagination = body.get("pagination") if isinstance(body, dict) else None
    per_page = pagination.get("per_page") if isinstance(pagination, dict) else None
    found = [fixtures.ticket(call.workspace, ticket_id) for ticket_id in fixtures.TICKET_IDS]
    if isinstance(query, dict) and query.get("field") == "id" and query.get("operator") == "=":
        found = [ticket for ticket in found if ticket["id"] == str(query.get("value"))]
    size = per_page if isinstance(per_page, int) and not isinstance(per_page, bool) and per_page > 0 else 20
    return Answer(200, fixtures.ticket_list(found, min(size, 150)))


def _list_ticket_types(call: Call) -> Answer:
    return Answer(200, fixtures.ticket_types(call.workspace))


def _list_ticket_states(call: Call) -> Answer:
    return Answer(200, fixtures.ticket_states())


def _ticket_not_found() -> Answer:
    # [EX] on linked_conversations and the ticket's tags; on PUT /tickets/{id} undocumented [INF].
    return error(404, "ticket_not_found", "Ticket not found")


def _update_ticket(call: Call) -> Answer:
    if call.record_id not in fixtures.TICKET_IDS:
        return _ticket_not_found()
    body = bodies.UPDATE_TICKET.read(call.request.body)
    if isinstance(body, Answer):
        return body
    updated = fixtures.ticket(call.workspace, call.record_id)
    if isinstance(body.get("open"), bool):
        updated["open"] = body["open"]
    return Answer(200, updated, mutation=True)


def _link_conversation(call: Call) -> Answer:
    if call.record_id not in fixtures.TICKET_IDS:
        return _ticket_not_found()
    body = bodies.LINK_CONVERSATION.read(call.request.body)
    if isinstance(body, Answer):
        return body
    conversation_id = body.get("conversation_id")
    if not _nonempty_str(conversation_id):
        return error(400, "parameter_not_found", "conversation_id not specified")  # [EX]
    if conversation_id not in fixtures.CONVERSATION_IDS:
        return error(404, "conversation_not_found", "Conversation not found")  # [EX]
    return Answer(
        200, fixtures.conversation(call.workspace, str(conversation_id), call.version), mutation=True
    )


def _list_articles(call: Call) -> Answer:
    return Answer(200, fixtures.articles(call.workspace))


def _update_article(call: Call) -> Answer:
    if call.record_id not in fixtures.ARTICLE_IDS:
        return error(404, "not_found", "Resource Not Found")  # [EX] "Article Not Found"
    body = bodies.UPDATE_ARTICLE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    updated = fixtures.article(call.workspace, call.record_id)
    if _nonempty_str(body.get("title")):
        updated["title"] = body["title"]
    return Answer(200, updated, mutation=True)


def _tag_article(call: Call) -> Answer:
    if call.record_id not in fixtures.ARTICLE_IDS:
        return error(404, "article_not_found", "Article not found")  # [EX]
    body = bodies.TAG_ARTICLE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    if body.get("id") not in fixtures.TAG_IDS:
        return error(404, "tag_not_found", "Tag not found")  # [EX]; no 400 is documented
    return Answer(200, fixtures.applied_tag(str(body["id"]), call.admin.id), mutation=True)


def _list_collections(call: Call) -> Answer:
    return Answer(200, fixtures.collections(call.workspace))


def _list_help_centers(call: Call) -> Answer:
    return Answer(200, fixtures.help_centers(call.workspace))


def _update_collection(call: Call) -> Answer:
    if call.record_id not in fixtures.COLLECTION_IDS:
        return error(404, "not_found", "Resource Not Found")  # [EX] "Collection Not Found"
    body = bodies.UPDATE_COLLECTION.read(call.request.body)
    if isinstance(body, Answer):
        return body
    updated = fixtures.collection(call.workspace, call.record_id)
    if _nonempty_str(body.get("name")):
        updated["name"] = body["name"]
    return Answer(200, updated, mutation=True)


def _list_contact_notes(call: Call) -> Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return error(404, "not_found", "User Not Found")  # [EX]
    return Answer(200, fixtures.note_list())


def _list_company_notes(call: Call) -> Answer:
    if call.record_id not in fixtures.COMPANY_IDS:
        return error(404, "company_not_found", "Company Not Found")  # [EX]
    return Answer(200, fixtures.note_list())


def _create_contact_note(call: Call) -> Answer:
    if call.record_id not in fixtures.CONTACT_IDS:
        return error(404, "not_found", "User Not Found")  # [EX]
    body = bodies.CREATE_NOTE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    return Answer(200, fixtures.note(call.admin, contact_id=call.record_id), mutation=True)


def _create_company_note(call: Call) -> Answer:
    if call.record_id not in fixtures.COMPANY_IDS:
        return error(404, "company_not_found", "Company Not Found")  # [EX]
    body = bodies.CREATE_NOTE.read(call.request.body)
    if isinstance(body, Answer):
        return body
    return Answer(200, fixtures.note(call.admin, company_id=call.record_id), mutation=True)


def _list_segments(call: Call) -> Answer:
    return Answer(200, fixtures.segments())


def _unix_time(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _list_activity_logs(call: Call) -> Answer:
    after = _unix_time(call.request.param("created_at_after"))
    if after is None:
        return error(400, "parameter_not_found", "created_at_after is required")  # [INF]
    before = _unix_time(call.request.param("created_at_before"))
    return Answer(200, fixtures.activity_logs(call.admin, after, before))


def _list_events(call: Call) -> Answer:
    identifiers = [name for name in ("user_id", "intercom_user_id", "email") if call.request.param(name)]
    if call.request.param("type") != "user" or not identifiers:
        return error(400, "parameter_not_found", "type=user and a user identifier are required")  # [INF]
    name = identifiers[0]
    # Intercom's answer for a user that does not exist is undocumented [INF]: an empty summary here.
    return Answer(200, fixtures.event_summary(name, call.request.param(name) or ""))


def _create_event(call: Call) -> Answer:
    # A tripwire: no probe may ever send it (API-NOTES §8); anything reaching it counts as a mutation.
    return Answer(202, None, mutation=True)


HANDLERS: dict[str, Callable[[Call], Answer]] = {
    "GET /me": _me,
    "GET /contacts": _list_contacts,
    "GET /contacts/{id}": _get_contact,
    "PUT /contacts/{id}": _update_contact,
    "POST /contacts/{id}/companies": _attach_contact_to_company,
    "POST /companies/list": _list_companies,
    "POST /companies": _create_or_update_company,
    "PUT /companies/{id}": _update_company,
    "GET /conversations": _list_conversations,
    "POST /conversations": _create_conversation,
    "PUT /conversations/{id}": _update_conversation,
    "POST /conversations/{id}/parts": _act_on_conversation,
    "GET /admins": _list_admins,
    "GET /admins/{id}": _get_admin,
    "PUT /admins/{id}/away": _set_away,
    "GET /teams": _list_teams,
    "GET /tags": _list_tags,
    "POST /tags": _create_tag,
    "GET /counts": _counts,
    "GET /data_attributes": _list_data_attributes,
    "POST /data_attributes": _create_data_attribute,
    "PUT /data_attributes/{id}": _update_data_attribute,
    "POST /tickets/search": _search_tickets,
    "GET /ticket_types": _list_ticket_types,
    "GET /ticket_states": _list_ticket_states,
    "PUT /tickets/{id}": _update_ticket,
    "POST /tickets/{id}/linked_conversations": _link_conversation,
    "GET /articles": _list_articles,
    "PUT /articles/{id}": _update_article,
    "POST /articles/{id}/tags": _tag_article,
    "GET /help_center/collections": _list_collections,
    "GET /help_center/help_centers": _list_help_centers,
    "PUT /help_center/collections/{id}": _update_collection,
    "GET /contacts/{id}/notes": _list_contact_notes,
    "GET /companies/{id}/notes": _list_company_notes,
    "POST /contacts/{id}/notes": _create_contact_note,
    "POST /companies/{id}/notes": _create_company_note,
    "GET /segments": _list_segments,
    "GET /admins/activity_logs": _list_activity_logs,
    "GET /events": _list_events,
    "POST /events": _create_event,
}
