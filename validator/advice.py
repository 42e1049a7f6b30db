"""Advice: what the user should do about each verdict, in the catalog's words, for the connector's auth mode.

The checker only decides (verdicts, evidence, Developer Hub labels); `advise` is the one step that turns its
result into advice: where permissions are changed, what must happen after a change (which depends on
`auth.mode`), and for each permission not granted what to do about it. Every word comes from the catalog's
`remediation` section; `wording` gives the same texts for a kind of finding as a whole (SARIF's rules), so
that each format advises in the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from validator.catalog import Catalog, FindingKind, FindingText
from validator.model import (
    Auth,
    AuthMode,
    ConnectorSpec,
    Declared,
    PermissionOutcome,
    Verdict,
    WorkspaceStatus,
)
from validator.report import ConnectorResult, PermissionResult

# The kind of finding a permission's verdict makes; `granted` makes none.
PERMISSION_FINDINGS = {
    Verdict.MISSING: FindingKind.PERMISSION_MISSING,
    Verdict.PLAN_RESTRICTED: FindingKind.PERMISSION_PLAN_RESTRICTED,
    Verdict.INCONCLUSIVE: FindingKind.PERMISSION_INCONCLUSIVE,
    Verdict.UNVERIFIABLE: FindingKind.PERMISSION_UNVERIFIABLE,
}


def finding_kind(result: PermissionResult) -> FindingKind | None:
    """The kind of finding a permission result makes, for how it is declared; None when there is nothing
    to fix (a needed permission granted, a forbidden one proven absent, an undeclared one not in excess)."""
    if result.declared is Declared.REQUIRED:
        return PERMISSION_FINDINGS.get(result.verdict)
    granted = result.verdict is Verdict.GRANTED or any(e.verdict is Verdict.GRANTED for e in result.evidence)
    failing = (PermissionOutcome.FAIL, PermissionOutcome.WARN, PermissionOutcome.WAIVED)
    if granted and result.outcome in failing:
        forbidden = result.declared is Declared.FORBIDDEN
        return FindingKind.FORBIDDEN_GRANTED if forbidden else FindingKind.EXCESS_GRANTED
    if result.outcome in (PermissionOutcome.INCONCLUSIVE, PermissionOutcome.WARN):
        if result.verdict is Verdict.UNVERIFIABLE:
            return FindingKind.PERMISSION_UNVERIFIABLE
        return FindingKind.PERMISSION_INCONCLUSIVE
    return None


def advise(result: ConnectorResult, catalog: Catalog, spec: ConnectorSpec) -> ConnectorResult:
    """`result` (the checker's, for `spec`) with its advice: where to fix, what after, per permission what,
    and for a workspace that could not be verified what lets the token name it."""
    api_version = catalog.api_version_for(spec)
    workspace = result.workspace
    if workspace is not None and workspace.status is WorkspaceStatus.UNVERIFIED:
        workspace = replace(workspace, remediation=workspace_remediation(catalog, spec.auth))
    return replace(
        result,
        where_to_fix=catalog.remediation.where,
        after_change=after_change(catalog, spec.auth),
        workspace=workspace,
        permissions=tuple(
            _advised(permission, catalog, spec.auth, api_version) for permission in result.permissions
        ),
    )


def workspace_remediation(catalog: Catalog, auth: Auth) -> str:
    """What lets a valid token name its workspace (tick "Read admins"), for the connector's auth mode."""
    return _fill(
        catalog,
        plain(catalog.remediation.findings[FindingKind.WORKSPACE_UNVERIFIED].help),
        after_change=after_change(catalog, auth),
        token_env=auth.token_env,
    )


def _advised(result: PermissionResult, catalog: Catalog, auth: Auth, api_version: str) -> PermissionResult:
    kind = finding_kind(result)
    if kind is None and result.declared is not Declared.REQUIRED:
        return replace(result, remediation=None)  # forbidden and absent, or undeclared and not excess
    advice = remediation(
        catalog, result.verdict, result.labels, auth, api_version, kind, inferred=result.labels_inferred
    )
    return replace(result, remediation=advice)


def remediation(
    catalog: Catalog,
    verdict: Verdict,
    labels: Sequence[str],
    auth: Auth,
    api_version: str,
    kind: FindingKind | None = None,
    *,
    inferred: bool = False,
) -> str | None:
    """What the user should do about one verdict (None for `granted`), for the connector's auth mode.

    It is the help of the verdict's kind of finding (or of `kind`, for a forbidden or undeclared
    permission: `finding_kind`), filled with this result's values, as plain text. When which label gates
    the route is inference (API-NOTES §8), the labels are named as candidates.
    """
    kind = kind or PERMISSION_FINDINGS.get(verdict)
    if kind is None:
        return None
    named = quote_labels(labels)
    if inferred and labels:
        named += " (inferred: Intercom does not document which label gates this)"
    return _fill(
        catalog,
        plain(catalog.remediation.findings[kind].help),
        labels=named,
        after_change=after_change(catalog, auth),
        token_env=auth.token_env,
        api_version=api_version,
    )


def after_change(catalog: Catalog, auth: Auth) -> str:
    """What must happen after permissions change, which depends on how the connector authenticates."""
    return catalog.remediation.after_change[auth.mode].format(token_env=auth.token_env)


def wording(catalog: Catalog, kind: FindingKind) -> FindingText:
    """The title, description and help of a kind of finding, said of all its results at once (Markdown)."""
    texts = catalog.remediation
    generic = texts.generic
    both = {str(mode): texts.after_change[mode].format(token_env=generic.token_env) for mode in AuthMode}
    values = {
        "labels": generic.labels,
        "after_change": generic.after_change.format(**both),
        "token_env": generic.token_env,
        "api_version": generic.api_version,
    }
    text = texts.findings[kind]
    return FindingText(
        title=_fill(catalog, text.title, **values),
        description=_fill(catalog, text.description, **values),
        help=_fill(catalog, text.help, **values),
    )


def identity_request(catalog: Catalog) -> str:
    """The request that checks the token, as reports name it: `GET /me`."""
    return f"{catalog.identity.method} {catalog.identity.path}"


def _fill(catalog: Catalog, text: str, **values: str) -> str:
    return text.format(
        where=catalog.remediation.where,
        identity=identity_request(catalog),
        identity_labels=quote_labels(catalog.identity.unreadable.labels),
        rejected_status=catalog.identity.rejected_status,
        **values,
    )


def plain(text: str) -> str:
    """A catalog text without its Markdown: backticks only mark code."""
    return text.replace("`", "")


def quote_labels(labels: Sequence[str]) -> str:
    return ", ".join(f'"{label}"' for label in labels)
