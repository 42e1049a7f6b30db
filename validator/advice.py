"""Advice: what the user should do about each verdict, in the catalog's words, for the connector's auth mode.

The checker only decides (verdicts, evidence, Developer Hub labels); `advise` is the one step that turns its
result into advice, from the catalog's `remediation` texts: where permissions are changed, what must happen
after a change (which depends on `auth.mode`), and for each permission not granted what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from validator.catalog import Catalog
from validator.model import Auth, ConnectorSpec, Verdict
from validator.report import ConnectorResult, PermissionResult


def advise(result: ConnectorResult, catalog: Catalog, spec: ConnectorSpec) -> ConnectorResult:
    """`result` (the checker's, for `spec`) with its advice: where to fix, what after, per permission what."""
    api_version = spec.effective_api_version
    return replace(
        result,
        where_to_fix=catalog.remediation.where,
        after_change=after_change(catalog, spec.auth),
        permissions=tuple(
            _advised(permission, catalog, spec.auth, api_version) for permission in result.permissions
        ),
    )


def _advised(result: PermissionResult, catalog: Catalog, auth: Auth, api_version: str) -> PermissionResult:
    return replace(result, remediation=remediation(catalog, result.verdict, result.labels, auth, api_version))


def remediation(
    catalog: Catalog, verdict: Verdict, labels: Sequence[str], auth: Auth, api_version: str
) -> str | None:
    """What the user should do about one verdict (None for `granted`), for the connector's auth mode."""
    texts = catalog.remediation
    template = {
        Verdict.MISSING: texts.missing,
        Verdict.PLAN_RESTRICTED: texts.plan_restricted,
        Verdict.INCONCLUSIVE: texts.inconclusive,
        Verdict.UNVERIFIABLE: texts.unverifiable,
    }.get(verdict)
    if template is None:
        return None
    return template.format(
        labels=", ".join(f'"{label}"' for label in labels),
        where=texts.where,
        after_change=after_change(catalog, auth),
        token_env=auth.token_env,
        api_version=api_version,
    )


def after_change(catalog: Catalog, auth: Auth) -> str:
    """What must happen after permissions change, which depends on how the connector authenticates."""
    return catalog.remediation.after_change[auth.mode].format(token_env=auth.token_env)
