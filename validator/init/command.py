"""`init`: write a connector.yaml that declares exactly what a token was found to have.

The token is read (`--token-env` or `--token-stdin`), probed (`probe`), the file rendered and checked
(`render`), then written as a new file (or replacing one with --force).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator import files
from validator.errors import ExitCode, ValidatorError
from validator.init.probe import Scaffold, probe_token
from validator.init.render import SCHEMA_FILE, check_generated, render_connector_yaml
from validator.init.request import InitError, InitRequest
from validator.init.schema import connector_property, connector_schema, fits

if TYPE_CHECKING:
    import httpx

    from validator.intercom import Exchange
    from validator.model import Permission
    from validator.report import PermissionResult


def run_init(
    request: InitRequest,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
) -> ExitCode:
    """Run `init` end to end: ExitCode.OK once the file is written. Anything else is an InitError (nothing
    written), its message scrubbed of the token, for the CLI to print."""
    from validator.tokens import Scrubber

    environ = os.environ if environ is None else environ
    stdout = stdout or sys.stdout
    scrub = Scrubber([])
    if request.compare is not None:
        return _run_compare(request, request.compare, environ, stdin or sys.stdin, stdout, transport_factory)
    try:
        _check_options(request)
        token = _token(request, environ, stdin or sys.stdin)
        scrub = Scrubber([token])
        notify = _still_waiting(stderr or sys.stderr, scrub, request.timeout)
        observe = _verbose(stderr or sys.stderr, scrub) if request.verbose else None
        scaffold = asyncio.run(probe_token(request, token, transport_factory, notify, observe))
        text = render_connector_yaml(scaffold)
        check_generated(text, str(request.output), token)
        write_new_file(request.output, text, replace=request.force)
    except ValidatorError as error:
        raise error.scrubbed(scrub) from None
    schema_note = write_schema_beside(request.output, replace=request.force)
    stdout.write(scrub(_summary(request.output, scaffold) + schema_note))
    return ExitCode.OK


def _still_waiting(
    stderr: TextIO, scrub: Callable[[str], str], timeout: float
) -> Callable[[str, float], None]:
    from validator.terminal import one_line, still_waiting

    def say(host: str, after: float) -> None:
        stderr.write(scrub(f"connector-validator: {one_line(still_waiting(host, after, timeout))}") + "\n")
        stderr.flush()

    return say


def _verbose(stderr: TextIO, scrub: Callable[[str], str]) -> Callable[[Exchange], None]:
    from validator.terminal import one_line

    def say(exchange: Exchange) -> None:
        stderr.write(scrub(f"connector-validator: {one_line(exchange.describe())}") + "\n")
        stderr.flush()

    return say


def _check_options(request: InitRequest) -> None:
    """What can be refused before the token is read and anything is sent."""
    if not fits(request.token_env, connector_schema()["$defs"]["envVarName"]):
        raise InitError(
            f"--token-env {request.token_env!r} is not an environment variable name", ExitCode.USAGE
        )
    if request.name is not None and not fits(request.name, connector_property("name")):
        limit = connector_property("name")["maxLength"]
        raise InitError(f"--name must be 1 to {limit} characters long", ExitCode.USAGE)
    if (request.output.exists() or request.output.is_symlink()) and not request.force:
        raise InitError(f"{request.output} already exists; pass --force to replace it", ExitCode.USAGE)


def _token(request: InitRequest, environ: Mapping[str, str], stdin: TextIO) -> str:
    from validator.tokens import TokenInputError, read_stdin_token, token_problem

    if request.token_stdin:
        try:
            return read_stdin_token(stdin)
        except TokenInputError as error:
            raise InitError(str(error), ExitCode.USAGE) from None
    token = environ.get(request.token_env, "").strip()
    if not token:
        raise InitError(
            f"the environment variable {request.token_env} is not set or empty; set it to the Intercom token "
            "(or name another variable with --token-env, or pipe the token in with --token-stdin)",
            ExitCode.USAGE,
        )
    problem = token_problem(token)
    if problem is not None:
        raise InitError(
            f"the token from {request.token_env} is not usable: {problem}; check it", ExitCode.USAGE
        )
    return token


def write_new_file(path: Path, text: str, *, replace: bool) -> None:
    """Create `path` (never overwriting unless `replace`, then atomically), mode 0644; errors are InitError.

    Without `replace` anything already at `path` is refused, a symbolic link included; with it, the entry
    itself is replaced (a link by the file, never followed).
    """
    try:
        if replace:
            files.replace_entry(path, text, mode=0o644)
        else:
            files.create_new(path, text, mode=0o644)  # 0644 minus the umask
    except files.TargetExists:
        raise InitError(f"{path} already exists; pass --force to replace it", ExitCode.USAGE) from None
    except files.TargetError as error:
        raise InitError(str(error), ExitCode.USAGE) from None


def write_schema_beside(output: Path, *, replace: bool) -> str:
    """Write connector.schema.json beside `output`, which names it in its yaml-language-server line; the
    line of the summary that says what became of it.

    An existing file is kept unless it differs and `replace` (--force) is given. The schema is a help for
    editors, not part of the check: failing to write it costs the run nothing but that line.
    """
    from validator.schemas import schema_path

    target = output.parent / SCHEMA_FILE
    text = schema_path(SCHEMA_FILE).read_text(encoding="utf-8")
    refresh = f"`connector-validator schema > {target}` rewrites it"
    try:
        files.create_new(target, text, mode=0o644)
        return f"Wrote {target}, the schema its first line names (for editors, offline).\n"
    except files.TargetExists:
        pass
    except files.TargetError as error:
        return f"Did not write {target} ({error}); {refresh}.\n"
    try:
        current = target.read_bytes() if target.is_file() and not target.is_symlink() else None
    except OSError:
        current = None
    if current == text.encode("utf-8"):
        return f"Kept {target}: it is this version's schema.\n"
    if not replace:
        return f"Left {target} as it was (not this version's schema); --force or {refresh}.\n"
    try:
        files.replace_entry(target, text, mode=0o644)
    except files.TargetError as error:
        return f"Did not replace {target} ({error}); {refresh}.\n"
    return f"Replaced {target} with this version's schema.\n"


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


def _run_compare(
    request: InitRequest,
    path: Path,
    environ: Mapping[str, str],
    stdin: TextIO,
    stdout: TextIO,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None,
) -> ExitCode:
    """`init --compare PATH`: probe every catalog permission, then say which of the token's permissions are
    excess for the connector.yaml at PATH (granted, not declared, and not granted by a label a declared
    permission needs), which forbidden ones it has and which declared ones it lacks. Writes nothing."""
    from validator.catalog import load_catalog
    from validator.spec import SpecError, SpecFileError, load_spec
    from validator.tokens import Scrubber

    scrub = Scrubber([])
    try:
        try:
            spec = load_spec(path)
        except SpecFileError as error:
            raise InitError(str(error), ExitCode.USAGE) from None
        except SpecError as error:
            raise InitError(error.problems[0].format(), ExitCode.USAGE) from None
        token = _token(request, environ, stdin)
        scrub = Scrubber([token])
        scaffold = asyncio.run(probe_token(request, token, transport_factory))
    except ValidatorError as error:
        raise error.scrubbed(scrub) from None
    catalog = load_catalog()
    needed = {label for p in spec.permissions if (entry := catalog.probes_for(p)) for label in entry.labels}
    declared = set(spec.permissions) | set(spec.policy.forbidden)
    excess = [
        result
        for result in scaffold.granted
        if result.permission not in declared and not (result.labels and set(result.labels) <= needed)
    ]
    verdicts = {result.permission: result for result in scaffold.results}
    forbidden = [verdicts[p] for p in spec.policy.forbidden if p in verdicts and p in _granted(scaffold)]
    lacking = [verdicts[p] for p in spec.permissions if p in verdicts and p not in _granted(scaffold)]
    lines = [f"Compared the token (workspace {scaffold.workspace.id}) with {path}; nothing was written."]
    if excess:
        lines.append("Excess (granted, not declared): " + ", ".join(_with_labels(r) for r in excess) + ".")
        labels = dict.fromkeys(label for result in excess for label in result.labels)
        after = catalog.remediation.after_change[spec.auth.mode].format(token_env=spec.auth.token_env)
        lines.append(
            f"To drop them: in {catalog.remediation.where}, untick "
            + ", ".join(f'"{label}"' for label in labels)
            + f"; then {after}."
        )
    else:
        lines.append("Excess (granted, not declared): none.")
    if forbidden:
        lines.append("Forbidden but granted: " + ", ".join(_with_labels(r) for r in forbidden) + ".")
    if lacking:
        lines.append(
            "Declared but not granted: " + ", ".join(f"{r.permission} ({r.verdict})" for r in lacking) + "."
        )
    stdout.write(scrub("\n".join(lines) + "\n"))
    return ExitCode.OK


def _granted(scaffold: Scaffold) -> set[Permission]:
    return {result.permission for result in scaffold.granted}


def _with_labels(result: PermissionResult) -> str:
    labels = ", ".join(f'"{label}"' for label in result.labels)
    return f"{result.permission} ({labels})" if labels else str(result.permission)


__all__ = ["run_init", "write_new_file"]
