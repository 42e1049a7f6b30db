"""`init`, first step: what a token has, found with the same checker as `validate`.

First `GET /me`, once (to learn the workspace and its region, which picks the API host), then every
permission of the catalog against a spec declaring them all, with that same identification, so the workspace
written down is the one the permissions were probed on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from validator.errors import ExitCode
from validator.init.request import (
    DEFAULT_CLIENT_ID_ENV,
    DEFAULT_CLIENT_SECRET_ENV,
    InitError,
    InitRequest,
)
from validator.init.schema import connector_property, fits
from validator.model import (
    Auth,
    AuthMode,
    ConnectorSpec,
    Region,
    TokenStatus,
    Verdict,
    Workspace,
)
from validator.report import PermissionResult, WorkspaceIdentity

if TYPE_CHECKING:
    import httpx

    from validator.catalog import Catalog
    from validator.checker import Identified
    from validator.intercom import ExchangeObserver, IntercomClient
    from validator.pacing import SlowHostNotice


@dataclass(frozen=True)
class Scaffold:
    """What was found, ready to render: the workspace, and a verdict for every catalog permission."""

    name: str
    workspace: Workspace
    auth: Auth
    api_version: str
    results: tuple[PermissionResult, ...]
    generated_at: datetime

    @property
    def granted(self) -> tuple[PermissionResult, ...]:
        return tuple(result for result in self.results if result.verdict is Verdict.GRANTED)

    @property
    def not_granted(self) -> tuple[PermissionResult, ...]:
        return tuple(result for result in self.results if result.verdict is not Verdict.GRANTED)


async def probe_token(
    request: InitRequest,
    token: str,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    on_slow_host: Callable[[str, float], None] | None = None,
    on_exchange: ExchangeObserver | None = None,
) -> Scaffold:
    """Identify the token's workspace with one `GET /me`, then probe every catalog permission with it.

    `/me` is sent exactly once: the workspace written down and the permissions probed come from the same
    identification, so an API that names another workspace on a second call cannot mix the two.
    `on_slow_host(host, seconds)` is told once per host when an attempt has gone that long unanswered, and
    `on_exchange` how every attempt ended (`init -v`).
    """
    from validator.advice import after_change
    from validator.catalog import load_catalog
    from validator.checker import Checker
    from validator.intercom import ApiUrlError, check_api_url, host_of
    from validator.pacing import SlowHostNotice
    from validator.validate import base_url_for

    try:
        api_url = check_api_url(request.api_url) if request.api_url else None
    except ApiUrlError as error:
        raise InitError(str(error), ExitCode.USAGE) from None
    catalog = load_catalog()
    checker = Checker(catalog)
    auth = _auth(request)
    source = "standard input" if request.token_stdin else request.token_env
    api_version = catalog.default_api_version

    # Before /me the region is unknown; the US host routes to the right region (API-NOTES §1).
    first = api_url or catalog.hosts[Region.US]
    notices: dict[str, SlowHostNotice] = {}

    def notice(base_url: str) -> SlowHostNotice | None:
        if on_slow_host is None:
            return None
        host = host_of(base_url)
        return notices.setdefault(host, SlowHostNotice(host, on_slow_host))

    async with _client(
        first, token, api_version, request, transport_factory, notice(first), on_exchange
    ) as client:
        identified = await checker.identify(client, source)
    workspace = _workspace(identified, request.token_env, catalog, auth)

    spec = ConnectorSpec(
        path=str(request.output),
        name=request.name or _default_name(workspace),
        workspace=workspace,
        auth=auth,
        permissions=tuple(catalog.permissions),
        api_version=api_version,
    )
    # The regional host once the region is known; the identity is the one above, not asked for again.
    base_url = base_url_for(spec, catalog, api_url)
    async with _client(
        base_url, token, api_version, request, transport_factory, notice(base_url), on_exchange
    ) as client:
        probed = await checker.probe(spec, client, identified)
    scaffold = Scaffold(
        name=spec.name,
        workspace=workspace,
        auth=auth,
        api_version=api_version,
        results=probed.permissions,
        generated_at=datetime.now(UTC),
    )
    if not scaffold.granted:
        raise InitError(
            "the token was granted none of the permissions connector-validator can check, and a "
            "connector.yaml must declare at least one; nothing was written. Tick permissions in "
            f"{catalog.remediation.where}, then {after_change(catalog, auth)}, and run init again",
            ExitCode.FAILED,
        )
    return scaffold


def _client(
    base_url: str,
    token: str,
    api_version: str,
    request: InitRequest,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None,
    slow_notice: SlowHostNotice | None = None,
    on_exchange: ExchangeObserver | None = None,
) -> IntercomClient:
    from validator.intercom import IntercomClient
    from validator.pacing import Timeouts

    return IntercomClient(
        base_url,
        token,
        api_version,
        timeouts=Timeouts(read=request.timeout),
        transport=transport_factory() if transport_factory else None,
        slow_notice=slow_notice,
        on_exchange=on_exchange,
    )


def _auth(request: InitRequest) -> Auth:
    if request.mode is AuthMode.OAUTH:
        return Auth(request.mode, request.token_env, DEFAULT_CLIENT_ID_ENV, DEFAULT_CLIENT_SECRET_ENV)
    return Auth(request.mode, request.token_env)


def _workspace(identified: Identified, token_env: str, catalog: Catalog, auth: Auth) -> Workspace:
    """The workspace GET /me named, or the InitError that says why there is none."""
    token = identified.token
    if token.status is TokenStatus.REJECTED:
        raise InitError(
            f"Intercom rejected the token from {token_env} (GET /me → 401 {token.error_code or ''}".rstrip()
            + "); check that it is the current token of the app",
            ExitCode.TOKEN_REJECTED,
        )
    actual = identified.identity
    if identified.unverified:
        # A valid token that may not read GET /me (issue 10 item 3): init writes only a workspace it has read.
        from validator.advice import identity_request, workspace_remediation

        raise InitError(
            f"the token is valid, but Intercom refused it {identity_request(catalog)} ({token.error_code}), "
            "which names its workspace, so no connector.yaml was written (init writes only a workspace it "
            f"has read). {workspace_remediation(catalog, auth).rstrip('.')}, and run init again",
            ExitCode.FAILED,
        )
    if token.status is not TokenStatus.VALID or actual is None or actual.id is None:
        raise InitError(token.message or "GET /me gave no usable answer; try again", ExitCode.INCONCLUSIVE)
    if not fits(actual.id, connector_property("workspace", "id")):
        # Not echoed: it could hold anything (line breaks, escape sequences), and no file is written for it.
        limit = connector_property("workspace", "id")["maxLength"]
        raise InitError(
            "Intercom answered a workspace id this tool cannot write into connector.yaml (GET /me "
            f"{catalog.identity.workspace.id} must be letters, digits, _ and - only, at most {limit} "
            "characters); nothing was written",
            ExitCode.INCONCLUSIVE,
        )
    # The name as Intercom sent it, not the one cut for display: validate compares it exactly.
    return Workspace(actual.id, actual.sent_name, _region(actual))


def _region(actual: WorkspaceIdentity) -> Region:
    if isinstance(actual.region, Region):
        return actual.region
    raise InitError(
        f"GET /me reported the region {actual.region!r}, which connector.yaml cannot express (us, eu, au)",
        ExitCode.INCONCLUSIVE,
    )


def _default_name(workspace: Workspace) -> str:
    """`<workspace-name-slug>-connector`, cut to the schema's length limit for a connector name."""
    suffix = "-connector"
    room = int(connector_property("name")["maxLength"]) - len(suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", (workspace.name or "").lower())[:room].strip("-")
    return f"{slug or ('intercom-' + workspace.id.lower())[:room]}{suffix}"
