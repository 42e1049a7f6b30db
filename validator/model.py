"""Domain values shared by every stage of the pipeline: the spec, the checks, the report.

Only small frozen values live here, so that importing them costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum


class DataType(StrEnum):
    """The kinds of Intercom data a connector can declare access to (keys of `permissions`)."""

    PEOPLE = "people"
    COMPANIES = "companies"
    CONVERSATIONS = "conversations"
    TEAMS_AND_TEAMMATES = "teams_and_teammates"
    TAGS = "tags"
    WORKSPACE_COUNTS = "workspace_counts"
    DATA_ATTRIBUTES = "data_attributes"
    # The help-desk data a migration also moves (API-NOTES §8)
    TICKETS = "tickets"
    ARTICLES = "articles"
    HELP_CENTER = "help_center"
    NOTES = "notes"
    SEGMENTS = "segments"
    ADMIN_ACTIVITY_LOGS = "admin_activity_logs"
    EVENTS = "events"


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


class Region(StrEnum):
    US = "us"
    EU = "eu"
    AU = "au"


class AuthMode(StrEnum):
    OAUTH = "oauth"
    ACCESS_TOKEN = "access_token"


class Verdict(StrEnum):
    GRANTED = "granted"
    MISSING = "missing"
    PLAN_RESTRICTED = "plan_restricted"
    INCONCLUSIVE = "inconclusive"
    UNVERIFIABLE = "unverifiable"


class Strength(StrEnum):
    """How strongly one answer supports a verdict."""

    PROOF = "proof"  # e.g. a 200 to a read: the request was allowed and served
    INFERENCE = "inference"  # e.g. a 400/404 to a write probe: allowed past the permission check, probably


class Declared(StrEnum):
    """How connector.yaml speaks of a permission: needed (`permissions`), forbidden (`policy.forbidden`), or
    not at all (probed only for `policy.excess` or `--baseline`)."""

    REQUIRED = "required"
    FORBIDDEN = "forbidden"
    UNDECLARED = "undeclared"


class PermissionOutcome(StrEnum):
    """What a permission's verdict means for the connector, once the policy is applied."""

    OK = "ok"
    FAIL = "fail"
    WARN = "warn"  # reported, never failing: an excess grant under `excess: warn`, a gained permission
    WAIVED = "waived"  # a failure that a waiver in force accepts
    INCONCLUSIVE = "inconclusive"


class ExcessMode(StrEnum):
    """`policy.excess`: what to do about granted permissions connector.yaml does not declare."""

    OFF = "off"
    WARN = "warn"
    FAIL = "fail"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    INCONCLUSIVE = "inconclusive"


class TokenStatus(StrEnum):
    VALID = "valid"
    REJECTED = "rejected"
    MISSING = "missing"  # the token variable is unset or empty
    MALFORMED = "malformed"  # set, but to a value no Intercom token can be (a pasted header, JSON, quotes)
    UNKNOWN = "unknown"  # /me gave no trustworthy answer (network, 5xx, unexplained body)

    @property
    def stops_the_check(self) -> bool:
        """No request is sent with such a token: there is none, or it cannot be one."""
        return self in (TokenStatus.MISSING, TokenStatus.MALFORMED)


class WorkspaceStatus(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    UNVERIFIED = "unverified"  # the token is valid but may not read /me, so its workspace is not known
    UNKNOWN = "unknown"


DEFAULT_TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"


def utc_today() -> date:
    """The date waivers are judged on by default: today, in UTC (the same for every CI runner)."""
    return datetime.now(UTC).date()


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file, 1-based like editors and compilers print it."""

    line: int
    col: int


@dataclass(frozen=True)
class Permission:
    data_type: DataType
    access: Access

    def __str__(self) -> str:
        return f"{self.data_type}:{self.access}"


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str | None = None
    region: Region = Region.US


@dataclass(frozen=True)
class Auth:
    mode: AuthMode
    token_env: str = DEFAULT_TOKEN_ENV
    client_id_env: str | None = None
    client_secret_env: str | None = None


@dataclass(frozen=True)
class Waiver:
    """`policy.waivers[]`: a known problem with one permission, accepted until `expires` (inclusive)."""

    permission: Permission
    reason: str
    expires: date
    position: Position | None = field(default=None, compare=False)

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class Policy:
    """`policy` of connector.yaml: what the token must not have, what to do about excess, the waivers."""

    forbidden: tuple[Permission, ...] = ()
    excess: ExcessMode = ExcessMode.OFF
    waivers: tuple[Waiver, ...] = ()
    forbidden_positions: Mapping[Permission, Position] = field(default_factory=dict, compare=False)
    position: Position | None = field(default=None, compare=False)  # the `policy` key

    def waiver_for(self, permission: Permission) -> Waiver | None:
        return next((waiver for waiver in self.waivers if waiver.permission == permission), None)


@dataclass(frozen=True)
class ConnectorSpec:
    """A loaded, valid connector.yaml.

    `positions` maps JSON paths (`$.workspace.id`, `$.permissions.people[1]`) to where that value starts in
    the file, so that reports can point at the exact line that declares something.
    """

    path: str
    name: str
    workspace: Workspace
    auth: Auth
    permissions: tuple[Permission, ...]
    api_version: str | None = None  # None: the catalog's default Intercom-Version (`Catalog.api_version_for`)
    version: int = 1
    platform: str = "intercom"
    positions: Mapping[str, Position] = field(default_factory=dict, compare=False, repr=False)
    permission_positions: Mapping[Permission, Position] = field(
        default_factory=dict, compare=False, repr=False
    )
    policy: Policy = field(default_factory=Policy)

    def position_of(self, json_path: str) -> Position | None:
        """The position of `json_path`, or of its nearest enclosing value that has one."""
        probe = json_path
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            if cut <= 0:
                break
            probe = probe[:cut]
        return self.positions.get("$")

    def position_of_permission(self, permission: Permission) -> Position | None:
        """Where the access level of `permission` is written (`read` in `people: [read]`)."""
        found = self.permission_positions.get(permission)
        return found or self.position_of(f"$.permissions.{permission.data_type}")
