"""`init`: write a connector.yaml that declares exactly what a token was found to have.

The token is checked with the same checker as `validate`: first `GET /me`, once (to learn the workspace and
its region, which picks the API host), then every permission of the catalog against a spec declaring them
all, with that same identification, so the workspace written down is the one the permissions were probed
on. Only `granted` verdicts are declared; the others are listed in comments, so the file passes `validate`
with the same token. The file is checked with `parse_spec` before it is written, and never holds the token.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from validator.errors import ExitCode
from validator.model import (
    DEFAULT_API_VERSION,
    DEFAULT_TOKEN_ENV,
    Auth,
    AuthMode,
    ConnectorSpec,
    DataType,
    Region,
    TokenStatus,
    Verdict,
    Workspace,
)
from validator.report import PermissionResult, WorkspaceIdentity

if TYPE_CHECKING:
    import httpx

    from validator.checker import Identified
    from validator.intercom import IntercomClient

DEFAULT_OUTPUT = Path("connector.yaml")
DEFAULT_CLIENT_ID_ENV = "INTERCOM_CLIENT_ID"
DEFAULT_CLIENT_SECRET_ENV = "INTERCOM_CLIENT_SECRET"
_SCHEMA = "connector.schema.json"

EXIT_WRITTEN = 0
EXIT_NOTHING_GRANTED = 1  # the token has none of the catalog's permissions: a valid file cannot be written
EXIT_USAGE = int(ExitCode.USAGE)  # bad options, token variable unset, output exists without --force
EXIT_TOKEN_REJECTED = int(ExitCode.TOKEN_REJECTED)
EXIT_UNKNOWN = int(ExitCode.INCONCLUSIVE)  # GET /me gave no usable answer (network, 5xx, odd region)
EXIT_INTERNAL = 70  # the generated file failed its own check: a bug in this tool


class InitError(Exception):
    """Stops `init` with a one-line message and an exit code; nothing has been written."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class InitRequest:
    output: Path = DEFAULT_OUTPUT
    token_env: str = DEFAULT_TOKEN_ENV
    token_stdin: bool = False
    api_url: str | None = None
    mode: AuthMode = AuthMode.ACCESS_TOKEN
    name: str | None = None
    force: bool = False
    timeout: float = 15.0


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


def run_init(
    request: InitRequest,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> int:
    """Run `init` end to end and return its exit code; every error is printed as one line."""
    from validator.tokens import Scrubber

    environ = os.environ if environ is None else environ
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    scrub = Scrubber([])
    try:
        _check_options(request)
        token = _token(request, environ, stdin or sys.stdin)
        scrub = Scrubber([token])
        scaffold = asyncio.run(probe_token(request, token, transport_factory))
        text = render_connector_yaml(scaffold)
        _check_generated(text, str(request.output), token)
        write_new_file(request.output, text, replace=request.force)
    except InitError as error:
        stderr.write(scrub(f"connector-validator: error: {error}\n"))
        return error.code
    stdout.write(scrub(_summary(request.output, scaffold)))
    return EXIT_WRITTEN


def _check_options(request: InitRequest) -> None:
    """What can be refused before the token is read and anything is sent."""
    if not _fits(request.token_env, _schema()["$defs"]["envVarName"]):
        raise InitError(f"--token-env {request.token_env!r} is not an environment variable name", EXIT_USAGE)
    if request.name is not None and not _fits(request.name, _property("name")):
        limit = _property("name")["maxLength"]
        raise InitError(f"--name must be 1 to {limit} characters long", EXIT_USAGE)
    if (request.output.exists() or request.output.is_symlink()) and not request.force:
        raise InitError(f"{request.output} already exists; pass --force to replace it", EXIT_USAGE)


def _token(request: InitRequest, environ: Mapping[str, str], stdin: TextIO) -> str:
    from validator.tokens import TokenInputError, read_stdin_token, token_problem

    if request.token_stdin:
        try:
            return read_stdin_token(stdin)
        except TokenInputError as error:
            raise InitError(str(error), EXIT_USAGE) from None
    token = environ.get(request.token_env, "").strip()
    if not token:
        raise InitError(
            f"the environment variable {request.token_env} is not set or empty; set it to the Intercom token "
            "(or name another variable with --token-env, or pipe the token in with --token-stdin)",
            EXIT_USAGE,
        )
    problem = token_problem(token)
    if problem is not None:
        raise InitError(f"the token from {request.token_env} is not usable: {problem}; check it", EXIT_USAGE)
    return token


async def probe_token(
    request: InitRequest,
    token: str,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> Scaffold:
    """Identify the token's workspace with one `GET /me`, then probe every catalog permission with it.

    `/me` is sent exactly once: the workspace written down and the permissions probed come from the same
    identification, so an API that names another workspace on a second call cannot mix the two.
    """
    from validator.advice import after_change
    from validator.catalog import load_catalog
    from validator.checker import Checker
    from validator.intercom import ApiUrlError, check_api_url
    from validator.validate import base_url_for

    try:
        api_url = check_api_url(request.api_url) if request.api_url else None
    except ApiUrlError as error:
        raise InitError(str(error), EXIT_USAGE) from None
    catalog = load_catalog()
    checker = Checker(catalog)
    auth = _auth(request)
    source = "standard input" if request.token_stdin else request.token_env

    # Before /me the region is unknown; the US host routes to the right region (API-NOTES §1).
    async with _client(api_url or catalog.hosts[Region.US], token, request, transport_factory) as client:
        identified = await checker.identify(client, source)
    workspace = _workspace(identified, request.token_env)

    spec = ConnectorSpec(
        path=str(request.output),
        name=request.name or _default_name(workspace),
        workspace=workspace,
        auth=auth,
        permissions=tuple(catalog.permissions),
        api_version=DEFAULT_API_VERSION,
    )
    # The regional host once the region is known; the identity is the one above, not asked for again.
    base_url = base_url_for(spec, catalog, api_url)
    async with _client(base_url, token, request, transport_factory) as client:
        probed = await checker.probe(spec, client, identified)
    scaffold = Scaffold(
        name=spec.name,
        workspace=workspace,
        auth=auth,
        api_version=DEFAULT_API_VERSION,
        results=probed.permissions,
        generated_at=datetime.now(UTC),
    )
    if not scaffold.granted:
        raise InitError(
            "the token was granted none of the permissions connector-validator can check, and a "
            "connector.yaml must declare at least one; nothing was written. Tick permissions in "
            f"{catalog.remediation.where}, then {after_change(catalog, auth)}, and run init again",
            EXIT_NOTHING_GRANTED,
        )
    return scaffold


def _client(
    base_url: str,
    token: str,
    request: InitRequest,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None,
) -> IntercomClient:
    from validator.intercom import IntercomClient, Timeouts

    return IntercomClient(
        base_url,
        token,
        DEFAULT_API_VERSION,
        timeouts=Timeouts(read=request.timeout),
        transport=transport_factory() if transport_factory else None,
    )


def _auth(request: InitRequest) -> Auth:
    if request.mode is AuthMode.OAUTH:
        return Auth(request.mode, request.token_env, DEFAULT_CLIENT_ID_ENV, DEFAULT_CLIENT_SECRET_ENV)
    return Auth(request.mode, request.token_env)


def _workspace(identified: Identified, token_env: str) -> Workspace:
    """The workspace GET /me named, or the InitError that says why there is none."""
    token = identified.token
    if token.status is TokenStatus.REJECTED:
        raise InitError(
            f"Intercom rejected the token from {token_env} (GET /me → 401 {token.error_code or ''}".rstrip()
            + "); check that it is the current token of the app",
            EXIT_TOKEN_REJECTED,
        )
    actual = identified.identity
    if token.status is not TokenStatus.VALID or actual is None or actual.id is None:
        raise InitError(token.message or "GET /me gave no usable answer; try again", EXIT_UNKNOWN)
    if not _fits(actual.id, _property("workspace", "id")):
        # Not echoed: it could hold anything (line breaks, escape sequences), and no file is written for it.
        limit = _property("workspace", "id")["maxLength"]
        raise InitError(
            "Intercom answered a workspace id this tool cannot write into connector.yaml (GET /me "
            f"app.id_code must be letters, digits, _ and - only, at most {limit} characters); nothing was "
            "written",
            EXIT_UNKNOWN,
        )
    # The name as Intercom sent it, not the one cut for display: validate compares it exactly.
    return Workspace(actual.id, actual.sent_name, _region(actual))


def _region(actual: WorkspaceIdentity) -> Region:
    if isinstance(actual.region, Region):
        return actual.region
    raise InitError(
        f"GET /me reported the region {actual.region!r}, which connector.yaml cannot express (us, eu, au)",
        EXIT_UNKNOWN,
    )


def _default_name(workspace: Workspace) -> str:
    """`<workspace-name-slug>-connector`, cut to the schema's length limit for a connector name."""
    suffix = "-connector"
    room = int(_property("name")["maxLength"]) - len(suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", (workspace.name or "").lower())[:room].strip("-")
    return f"{slug or ('intercom-' + workspace.id.lower())[:room]}{suffix}"


def _schema() -> dict[str, Any]:
    from validator.schemas import load_schema

    return load_schema(_SCHEMA)


def _property(*names: str) -> dict[str, Any]:
    """The subschema of a connector.yaml key, e.g. `_property("workspace", "id")`."""
    schema = _schema()
    for name in names:
        schema = schema["properties"][name]
    return schema


def _fits(value: str, subschema: Mapping[str, Any]) -> bool:
    """Whether `value` is valid for `subschema` of connector.schema.json, the single source of its rules."""
    from jsonschema import Draft202012Validator

    return bool(Draft202012Validator(subschema).is_valid(value))


# --- rendering ------------------------------------------------------------------------------------------


def render_connector_yaml(scaffold: Scaffold) -> str:
    """The connector.yaml text, commented for a reader who did not run `init`."""
    schema_id = _schema()["$id"]
    workspace = scaffold.workspace
    shown_name = f" ({_one_line(workspace.name)})" if workspace.name else ""
    when = scaffold.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# yaml-language-server: $schema={schema_id}",
        "#",
        f"# Generated by `connector-validator init` on {when} for workspace {workspace.id}{shown_name}.",
        "# The permissions below reflect what the token had at that moment, found by probing Intercom;",
        "# they are not what the connector needs. Remove the ones it does not use, so that `validate`",
        "# checks exactly those. The token is not in this file: `validate` reads it from the environment",
        "# variable named in auth.token_env.",
        "version: 1",
        f"name: {_quoted(scaffold.name)}",
        "platform: intercom",
        "workspace:",
        f"  id: {_quoted(workspace.id)}   # app id_code, from GET /me",
    ]
    if workspace.name and _fits(workspace.name, _property("workspace", "name")):
        lines.append(f"  name: {_quoted(workspace.name)}")
    lines += [f"  region: {workspace.region}", "auth:", *_auth_lines(scaffold.auth)]
    lines += [f'api_version: "{scaffold.api_version}"', "permissions:", *_permission_lines(scaffold.granted)]
    lines += _not_declared_lines(scaffold.not_granted)
    return "\n".join(lines) + "\n"


def _auth_lines(auth: Auth) -> list[str]:
    if auth.mode is AuthMode.OAUTH:
        return [
            "  mode: oauth   # a public app: workspaces authorize it (`connector-validator login`)",
            f"  token_env: {auth.token_env}   # the environment variable (a CI secret) that holds the token",
            f"  client_id_env: {auth.client_id_env}   # the app's client id, for `login`",
            f"  client_secret_env: {auth.client_secret_env}   # the app's client secret, for `login`",
        ]
    return [
        "  mode: access_token   # a private app: Developer Hub → your app → Configure → Authentication",
        f"  token_env: {auth.token_env}   # the environment variable (a CI secret) that holds the token",
    ]


def _permission_lines(granted: Sequence[PermissionResult]) -> list[str]:
    rows: list[tuple[str, str]] = []
    for data_type in DataType:
        results = [result for result in granted if result.data_type is data_type]
        if results:
            levels = ", ".join(str(result.access) for result in results)
            labels = "; ".join(f"{result.access}: {_labels(result)}" for result in results)
            rows.append((f"  {data_type}: [{levels}]", f"# Developer Hub: {labels}"))
    width = max((len(line) for line, _ in rows), default=0) + 2
    return [line.ljust(width) + comment for line, comment in rows]


def _not_declared_lines(results: Sequence[PermissionResult]) -> list[str]:
    if not results:
        return []
    lines = ["#", "# Probed but not declared (declare them only once `validate` shows them granted):"]
    for result in results:
        reason = _VERDICT_REASON[result.verdict]
        notes = [evidence.note for evidence in result.evidence if evidence.note]
        detail = f" ({_one_line(notes[0])})" if notes and result.verdict is not Verdict.MISSING else ""
        lines.append(
            f"#   {result.data_type}: [{result.access}]: {reason}{detail}; Developer Hub: {_labels(result)}"
        )
    return lines


_VERDICT_REASON = {
    Verdict.MISSING: "missing, the token does not have it",
    Verdict.PLAN_RESTRICTED: "plan-restricted, the workspace's plan does not include it",
    Verdict.INCONCLUSIVE: "inconclusive, no trustworthy answer",
    Verdict.UNVERIFIABLE: "unverifiable, no safe request proves it",
    Verdict.GRANTED: "granted",
}


def _labels(result: PermissionResult) -> str:
    return ", ".join(f'"{label}"' for label in result.labels) or "no label known"


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes are a subset of YAML's, so a JSON string is valid YAML."""
    import json

    return json.dumps(value, ensure_ascii=False)


def _one_line(text: str) -> str:
    """Text from Intercom made safe for a comment: one line, no control characters, not too long."""
    cleaned = " ".join("".join(char if char.isprintable() else " " for char in text).split())
    return cleaned if len(cleaned) <= 120 else cleaned[:117] + "..."


def _check_generated(text: str, file: str, token: str) -> None:
    from validator.spec import SpecError, parse_spec

    if token in text:
        raise InitError(
            "the generated file would contain the token; nothing was written (a bug)", EXIT_INTERNAL
        )
    try:
        parse_spec(text.encode("utf-8"), file)
    except SpecError as error:
        raise InitError(
            f"the generated file is invalid, nothing was written (a bug): {error}", EXIT_INTERNAL
        ) from None


def write_new_file(path: Path, text: str, *, replace: bool) -> None:
    """Create `path` (never overwriting unless `replace`, then atomically); errors become InitError."""
    data = text.encode("utf-8")
    try:
        if not replace:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            return
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise InitError(f"{path} already exists; pass --force to replace it", EXIT_USAGE) from None
    except OSError as error:
        raise InitError(f"cannot write {path}: {error.strerror or error}", EXIT_USAGE) from None


def _summary(output: Path, scaffold: Scaffold) -> str:
    workspace = scaffold.workspace
    declared = ", ".join(str(result.permission) for result in scaffold.granted)
    lines = [
        f"Wrote {output} for workspace {workspace.id} ({workspace.region}), auth mode {scaffold.auth.mode}.",
        f"Declared (granted to the token): {declared}.",
    ]
    if scaffold.not_granted:
        skipped = ", ".join(f"{result.permission} ({result.verdict})" for result in scaffold.not_granted)
        lines.append(f"Not declared: {skipped}.")
    lines.append(
        f"Next: remove what the connector does not need, then `connector-validator validate {output}` in CI."
    )
    return "\n".join(lines) + "\n"


__all__ = ["InitError", "InitRequest", "Scaffold", "probe_token", "render_connector_yaml", "run_init"]
