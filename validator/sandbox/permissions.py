"""The sandbox's own route → permission table, written from API-NOTES §4, §5 and §8.

This table is deliberately independent of the validator's probe catalog: the sandbox stands in for
Intercom, so it must encode what Intercom enforces, not what the validator believes. If both were derived
from one source, a mistake there would make every test pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from validator.model import DataType


class Label(StrEnum):
    """Developer Hub permission labels, exactly as shown to users (API-NOTES §4)."""

    READ_LIST_USERS_COMPANIES = "Read and list users and companies"
    READ_ONE_USER_COMPANY = "Read one user and one company"
    WRITE_USERS_COMPANIES = "Write users and companies"
    READ_CONVERSATIONS = "Read conversations"
    WRITE_CONVERSATIONS = "Write conversations"
    READ_ADMINS = "Read admins"
    READ_ONE_ADMIN = "Read one admin"
    UPDATE_ADMINS = "Update admins"
    READ_TAGS = "Read tags"
    WRITE_TAGS = "Write tags"
    READ_COUNTS = "Read counts"
    WRITE_DATA_ATTRIBUTES = "Write data attributes"
    # the help-desk labels (API-NOTES §8)
    READ_TICKETS = "Read tickets"
    WRITE_TICKETS = "Write tickets"
    READ_ARTICLES = "Read and List articles"
    WRITE_ARTICLES = "Read and Write Articles"
    READ_ADMIN_ACTIVITY_LOGS = "Read admin activity logs"
    READ_EVENTS = "Read events"
    WRITE_EVENTS = "Write events"


ALL_LABELS: frozenset[Label] = frozenset(Label)

# The scope identifier named in 403 `forbidden` messages ("You do not have the required scope
# (read_conversations) ..."). Only `read_conversations` appears in Intercom's examples; the others are
# [INF], built the same way.
SCOPE_IDS: dict[Label, str] = {
    Label.READ_LIST_USERS_COMPANIES: "read_users_companies",  # [INF]
    Label.READ_ONE_USER_COMPANY: "read_single_user_company",  # [INF]
    Label.WRITE_USERS_COMPANIES: "write_users_companies",  # [INF]
    Label.READ_CONVERSATIONS: "read_conversations",  # [EX] 2.16 macros endpoints
    Label.WRITE_CONVERSATIONS: "write_conversations",  # [INF]
    Label.READ_ADMINS: "read_admins",  # [INF]
    Label.READ_ONE_ADMIN: "read_single_admin",  # [INF]
    Label.UPDATE_ADMINS: "update_admins",  # [INF]
    Label.READ_TAGS: "read_tags",  # [INF]
    Label.WRITE_TAGS: "write_tags",  # [INF]
    Label.READ_COUNTS: "read_counts",  # [INF]
    Label.WRITE_DATA_ATTRIBUTES: "write_data_attributes",  # [INF]
    Label.READ_TICKETS: "read_tickets",  # [INF]
    Label.WRITE_TICKETS: "write_tickets",  # [DOC] 2.16 prose, POST /tickets/{id}/linked_conversations
    Label.READ_ARTICLES: "read_articles_scope",  # [DOC] 2.16 prose, GET /articles/{id}/draft
    Label.WRITE_ARTICLES: "read_write_articles_scope",  # [DOC] 2.16 prose, POST /articles/{id}/tags
    Label.READ_ADMIN_ACTIVITY_LOGS: "read_admin_activity_logs",  # [INF]
    Label.READ_EVENTS: "read_events",  # [INF]
    Label.WRITE_EVENTS: "write_events",  # [INF]
}


@dataclass(frozen=True)
class Route:
    """One endpoint the sandbox serves and the permission Intercom requires for it.

    `key` ("PUT /companies/{id}") is how configuration names the route (faults, missing-permission style).
    `required` is None only for `/me`, which every client uses as the token check. `also_accepted` holds
    the narrower "one record" labels that suffice for single-record reads.
    """

    method: str
    template: str
    data_type: DataType | None
    required: Label | None
    also_accepted: frozenset[Label] = frozenset()
    is_write: bool = False
    # Versions whose description does not have the route: they answer 400 intercom_version_invalid.
    absent_in: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def permitted(self, granted: frozenset[Label]) -> bool:
        """Whether a token holding `granted` may call this route."""
        if self.required is None:
            return True
        return self.required in granted or bool(self.also_accepted & granted)


def _route(
    method: str,
    template: str,
    data_type: DataType | None,
    required: Label | None,
    *also: Label,
    absent_in: frozenset[str] = frozenset(),
) -> Route:
    return Route(
        method,
        template,
        data_type,
        required,
        frozenset(also),
        is_write=method in ("POST", "PUT"),
        absent_in=absent_in,
    )


_NOT_IN_2_15 = frozenset({"2.15"})  # in the 2.16 description only


_PEOPLE, _COMPANIES = DataType.PEOPLE, DataType.COMPANIES
_READ_LIST = Label.READ_LIST_USERS_COMPANIES
_WRITE_UC = Label.WRITE_USERS_COMPANIES

ME_ROUTE_KEY = "GET /me"

ROUTES: tuple[Route, ...] = (
    _route(
        "GET", "/me", None, None
    ),  # needs "Read admins" when the config says so (`me_requires_read_admins`)
    # people and companies
    _route("GET", "/contacts", _PEOPLE, _READ_LIST),
    _route("GET", "/contacts/{id}", _PEOPLE, _READ_LIST, Label.READ_ONE_USER_COMPANY),
    _route("PUT", "/contacts/{id}", _PEOPLE, _WRITE_UC),
    _route("POST", "/contacts/{id}/companies", _PEOPLE, _WRITE_UC),
    # POST /companies/list is a read despite the verb (API-NOTES §5).
    Route("POST", "/companies/list", _COMPANIES, _READ_LIST),
    _route("POST", "/companies", _COMPANIES, _WRITE_UC),
    _route("PUT", "/companies/{id}", _COMPANIES, _WRITE_UC),
    # conversations
    _route("GET", "/conversations", DataType.CONVERSATIONS, Label.READ_CONVERSATIONS),
    _route("POST", "/conversations", DataType.CONVERSATIONS, Label.WRITE_CONVERSATIONS),
    _route("PUT", "/conversations/{id}", DataType.CONVERSATIONS, Label.WRITE_CONVERSATIONS),
    _route("POST", "/conversations/{id}/parts", DataType.CONVERSATIONS, Label.WRITE_CONVERSATIONS),
    # teams and teammates
    _route("GET", "/admins", DataType.TEAMS_AND_TEAMMATES, Label.READ_ADMINS),
    _route("GET", "/admins/{id}", DataType.TEAMS_AND_TEAMMATES, Label.READ_ADMINS, Label.READ_ONE_ADMIN),
    _route("PUT", "/admins/{id}/away", DataType.TEAMS_AND_TEAMMATES, Label.UPDATE_ADMINS),
    _route("GET", "/teams", DataType.TEAMS_AND_TEAMMATES, Label.READ_ADMINS),
    # tags
    _route("GET", "/tags", DataType.TAGS, Label.READ_TAGS),
    _route("POST", "/tags", DataType.TAGS, Label.WRITE_TAGS),
    # workspace counts: legacy endpoint, in no 2.x OpenAPI description (API-NOTES §5)
    _route("GET", "/counts", DataType.WORKSPACE_COUNTS, Label.READ_COUNTS),
    # data attributes
    _route("GET", "/data_attributes", DataType.DATA_ATTRIBUTES, _READ_LIST),
    _route("POST", "/data_attributes", DataType.DATA_ATTRIBUTES, Label.WRITE_DATA_ATTRIBUTES),
    _route("PUT", "/data_attributes/{id}", DataType.DATA_ATTRIBUTES, Label.WRITE_DATA_ATTRIBUTES),
    # tickets (§8). POST /tickets/search is a read despite the verb. Ticket types and states: label [INF].
    Route("POST", "/tickets/search", DataType.TICKETS, Label.READ_TICKETS),
    _route("GET", "/ticket_types", DataType.TICKETS, Label.READ_TICKETS),
    _route("GET", "/ticket_states", DataType.TICKETS, Label.READ_TICKETS),
    _route("PUT", "/tickets/{id}", DataType.TICKETS, Label.WRITE_TICKETS),
    _route(
        "POST",
        "/tickets/{id}/linked_conversations",
        DataType.TICKETS,
        Label.WRITE_TICKETS,
        absent_in=_NOT_IN_2_15,
    ),
    # articles (labels [DOC]) and the help center (labels [INF])
    _route("GET", "/articles", DataType.ARTICLES, Label.READ_ARTICLES),
    _route("PUT", "/articles/{id}", DataType.ARTICLES, Label.WRITE_ARTICLES),
    _route("POST", "/articles/{id}/tags", DataType.ARTICLES, Label.WRITE_ARTICLES, absent_in=_NOT_IN_2_15),
    _route("GET", "/help_center/collections", DataType.HELP_CENTER, Label.READ_ARTICLES),
    _route("GET", "/help_center/help_centers", DataType.HELP_CENTER, Label.READ_ARTICLES),
    _route("PUT", "/help_center/collections/{id}", DataType.HELP_CENTER, Label.WRITE_ARTICLES),
    # notes (labels [INF])
    _route("GET", "/contacts/{id}/notes", DataType.NOTES, _READ_LIST),
    _route("GET", "/companies/{id}/notes", DataType.NOTES, _READ_LIST),
    _route("POST", "/contacts/{id}/notes", DataType.NOTES, _WRITE_UC),
    _route("POST", "/companies/{id}/notes", DataType.NOTES, _WRITE_UC, absent_in=_NOT_IN_2_15),
    # segments, admin activity logs, data events
    _route("GET", "/segments", DataType.SEGMENTS, _READ_LIST),
    _route("GET", "/admins/activity_logs", DataType.ADMIN_ACTIVITY_LOGS, Label.READ_ADMIN_ACTIVITY_LOGS),
    _route("GET", "/events", DataType.EVENTS, Label.READ_EVENTS),
    # Never probed (no safe form, §8); served so that a stray request is recorded as a mutation.
    _route("POST", "/events", DataType.EVENTS, Label.WRITE_EVENTS),
)

ROUTES_BY_KEY: dict[str, Route] = {route.key: route for route in ROUTES}


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{id\\\}", "(?P<id>[^/]+)", re.escape(template)) + "/?$")


# Literal templates first, so that `/companies/list` never matches `/companies/{id}`.
_MATCHERS: tuple[tuple[Route, re.Pattern[str]], ...] = tuple(
    (route, _compile(route.template)) for route in sorted(ROUTES, key=lambda r: "{" in r.template)
)


def match_route(method: str, path: str) -> tuple[Route, str | None] | None:
    """The route serving `method path`, with the `{id}` segment if the template has one."""
    for route, pattern in _MATCHERS:
        if route.method != method:
            continue
        found = pattern.match(path)
        if found:
            return route, found.groupdict().get("id")
    return None
