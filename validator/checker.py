"""The check: `/me` first, then every declared permission probed concurrently, each answer classified.

Classification is conservative by construction: an answer becomes `granted` only when a catalog rule for
that exact probe explains it (status, error code, body type, and for a success the documented shape of the
whole body). Everything else, including answers that look fine but are not understood, is `inconclusive`.

The checker decides and shows why (verdicts, evidence, Developer Hub labels); what to do about a verdict is
`validator.advice`'s job, applied to the result afterwards.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from validator.catalog import AnswerRule, Catalog, PermissionProbes, Probe
from validator.intercom import Answer, IntercomClient
from validator.model import (
    ConnectorSpec,
    Declared,
    ExcessMode,
    Permission,
    Region,
    Strength,
    TokenStatus,
    Verdict,
    WorkspaceStatus,
)
from validator.report import (
    ConnectorResult,
    Evidence,
    PermissionResult,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)

# When several probes back one permission, the most telling verdict wins: a definite "missing" beats a
# plan restriction, which beats not knowing; "granted" only when every probe says so.
_PRECEDENCE = (Verdict.MISSING, Verdict.PLAN_RESTRICTED, Verdict.INCONCLUSIVE, Verdict.UNVERIFIABLE)

ProgressHook = Callable[[str, Permission, Verdict], None]


@dataclass(frozen=True)
class Classified:
    verdict: Verdict
    evidence: Evidence


def classify(probe: Probe, answer: Answer, common: Sequence[AnswerRule]) -> Classified:
    """Read one answer with the probe's own rules, then the common ones; unexplained means inconclusive."""
    if answer.status is None:
        return Classified(
            Verdict.INCONCLUSIVE,
            _evidence(answer, None, f"no answer after {answer.attempts} attempt(s): {answer.failure}"),
        )
    for rule in (*probe.answers, *common):
        if _matches(rule, answer):
            return Classified(rule.verdict, _evidence(answer, rule.strength, rule.note))
    if probe.method != "GET" and 200 <= answer.status < 300 and not _is_read(probe):
        note = (
            "the write probe SUCCEEDED, which should be impossible: data may have changed; please report this"
        )
        return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, note))
    return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, _unexplained(answer, probe)))


def _is_read(probe: Probe) -> bool:
    """A read sent with another verb (POST /companies/list): its own rules grant on a 2xx."""
    return any(rule.status < 300 and rule.verdict is Verdict.GRANTED for rule in probe.answers)


def _matches(rule: AnswerRule, answer: Answer) -> bool:
    if rule.status != answer.status or not answer.body_is_json:
        return False
    if rule.verdict is Verdict.GRANTED and not answer.is_json_media_type:
        return False  # JSON served as a web page is some proxy's doing, not Intercom's word
    if rule.verdict is Verdict.GRANTED and answer.status < 300 and rule.shape is None:
        return False  # a success proves a grant only by its whole, documented shape
    if rule.body_type is not None:
        if answer.body_type != rule.body_type:
            return False
        return rule.shape is None or rule.shape.mismatch(answer.body) is None
    if not answer.is_error_envelope:
        return False  # a 4xx is only Intercom's word when it comes in Intercom's error envelope
    code, message = answer.error
    if rule.codes and code not in rule.codes:
        return False
    return rule.message_contains is None or (message is not None and rule.message_contains in message)


def _unexplained(answer: Answer, probe: Probe | None = None) -> str:
    if probe is not None and answer.body_is_json and answer.is_json_media_type:
        for rule in probe.answers:
            if rule.status == answer.status and rule.shape is not None:
                mismatch = rule.shape.mismatch(answer.body)
                if mismatch is not None:
                    return (
                        f"the body did not have the shape Intercom documents for {probe.method} {probe.path} "
                        f"({rule.shape.name}): {mismatch}"
                    )
    if answer.status is not None and answer.status >= 500:
        return f"server error after {answer.attempts} attempt(s)"
    if answer.status == 429:
        return f"still rate limited after {answer.attempts} attempt(s)"
    if answer.status is not None and 300 <= answer.status < 400:
        return "redirected; redirects are not followed so the token never leaves the API host"
    if not answer.body_is_json:
        return "the answer was not JSON (a proxy or an error page?)"
    return "an answer the catalog does not explain"


def _evidence(answer: Answer, strength: Strength | None, note: str | None) -> Evidence:
    code, _ = answer.error
    return Evidence(
        method=answer.method,
        path=answer.path,
        http_status=answer.status,
        error_code=code,
        request_id=answer.request_id,
        strength=strength,
        note=note,
    )


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    if verdicts and all(verdict is Verdict.GRANTED for verdict in verdicts):
        return Verdict.GRANTED
    for verdict in _PRECEDENCE:
        if verdict in verdicts:
            return verdict
    return Verdict.UNVERIFIABLE  # no probe at all


@dataclass(frozen=True)
class Identified:
    """What one `GET /me` said: the token check, and the workspace when the answer was understood."""

    token: TokenCheck
    identity: WorkspaceIdentity | None


class Checker:
    """Runs the check of one connector with one client (which bounds the requests in flight)."""

    def __init__(
        self,
        catalog: Catalog,
        progress: ProgressHook | None = None,
        *,
        survey: bool = False,
    ) -> None:
        """`survey`: probe every permission the catalog can check, whatever `policy.excess` says (so that a
        later run can compare: `validate --baseline`)."""
        self._catalog = catalog
        self._progress = progress
        self._survey = survey

    def targets(self, spec: ConnectorSpec) -> list[tuple[Permission, Declared]]:
        """What to probe, in report order: the needed permissions as declared, the forbidden ones, then
        (under `policy.excess` warn or fail, or a survey) every other permission the catalog can probe."""
        found = [(permission, Declared.REQUIRED) for permission in spec.permissions]
        found += [(permission, Declared.FORBIDDEN) for permission in spec.policy.forbidden]
        if spec.policy.excess is not ExcessMode.OFF or self._survey:
            known = {permission for permission, _ in found}
            found += [
                (permission, Declared.UNDECLARED)
                for permission, entry in self._catalog.permissions.items()
                if entry.probes and permission not in known
            ]
        return found

    async def check(self, spec: ConnectorSpec, client: IntercomClient, token_source: str) -> ConnectorResult:
        """`/me`, then every declared permission: `identify` followed by `probe`."""
        return await self.probe(spec, client, await self.identify(client, token_source))

    async def identify(self, client: IntercomClient, token_source: str) -> Identified:
        """One `GET /me`: whether the token is valid, and the workspace it belongs to."""
        identity_check = self._catalog.identity
        me = await client.request(identity_check.method, identity_check.path)
        token, identity = self._read_identity(me, token_source)
        return Identified(token, identity)

    async def probe(
        self, spec: ConnectorSpec, client: IntercomClient, identified: Identified
    ) -> ConnectorResult:
        """Compare the workspace `identify` found with the spec's, and probe every declared permission.

        No `/me` is sent here: the result always describes the identity that was passed in, so a caller that
        writes that identity down (`init`) knows the permissions were probed in the same run.
        """
        api_version = self._catalog.api_version_for(spec)
        expected = WorkspaceIdentity(spec.workspace.id, spec.workspace.name, spec.workspace.region)
        token, identity = identified.token, identified.identity
        base = ConnectorResult(
            path=spec.path,
            name=spec.name,
            auth_mode=spec.auth.mode,
            token=token,
            workspace=None,
            api_version=api_version,
            auth_position=spec.position_of("$.auth"),
        )
        if token.status is TokenStatus.REJECTED:
            return base  # a rejected token proves nothing more; no probe is sent
        if identity is None:
            # Without a working /me a 401 on a probe cannot be told apart from a rejected token.
            workspace = WorkspaceCheck(
                WorkspaceStatus.UNKNOWN, expected, position=spec.position_of("$.workspace")
            )
            # Nothing is known of the undeclared ones either; they are not listed (the run is inconclusive).
            results = tuple(
                self._result(spec, permission, Verdict.INCONCLUSIVE, (), declared=declared)
                for permission, declared in self.targets(spec)
                if declared is not Declared.UNDECLARED
            )
            return replace(base, workspace=workspace, permissions=results)
        workspace = self._compare_workspace(spec, expected, identity)
        # The probes run even when the workspace mismatches: they are harmless, and one run then tells the
        # user everything that is wrong with the token. Needed, forbidden and undeclared permissions are
        # all probed in this one concurrent round.
        probed = await asyncio.gather(
            *(
                self._check_permission(spec, client, permission, declared)
                for permission, declared in self.targets(spec)
            )
        )
        return replace(base, workspace=workspace, permissions=tuple(probed))

    def _read_identity(self, me: Answer, token_source: str) -> tuple[TokenCheck, WorkspaceIdentity | None]:
        code, _ = me.error
        evidence = (_evidence(me, None, None),)
        if me.status == self._catalog.identity.rejected_status and me.is_error_envelope:
            return TokenCheck(TokenStatus.REJECTED, code or "unauthorized", token_source, evidence), None
        identity = self._identity(me)
        if identity is not None:
            proof = (_evidence(me, Strength.PROOF, "the token is valid"),)
            return TokenCheck(TokenStatus.VALID, None, token_source, proof), identity
        reason = _unexplained(me) if me.status is not None else f"no answer: {me.failure}"
        return TokenCheck(
            TokenStatus.UNKNOWN, code, token_source, evidence, message=f"{me.method} {me.path}: {reason}"
        ), None

    def _identity(self, me: Answer) -> WorkspaceIdentity | None:
        """The admin and workspace of a 200 from /me, or None when the answer is not one we understand."""
        body = me.body if isinstance(me.body, dict) else None
        identity = self._catalog.identity
        if me.status != 200 or body is None or me.body_type != identity.body_type:
            return None
        if not me.is_json_media_type:
            return None  # JSON served as a web page is some proxy's doing, not Intercom's word
        if identity.shape.mismatch(body) is not None:
            return None  # an admin in name only: not the shape Intercom documents for /me
        fields = identity.workspace  # where /me names the workspace, says the catalog (app.id_code, ...)
        sent = [path.read(body) for path in (fields.id, fields.name, fields.region)]
        id_code, sent_name, sent_region = sent
        if not isinstance(id_code, str):
            return None
        name = sent_name if isinstance(sent_name, str) else None
        region = sent_region if isinstance(sent_region, str) else None
        return WorkspaceIdentity(
            id=_printable(id_code),
            name=_printable(name) if name is not None else None,
            region=_region(region),
            sent_id=id_code,
            sent_name=name,
            sent_region=region,
        )

    def _compare_workspace(
        self, spec: ConnectorSpec, expected: WorkspaceIdentity, actual: WorkspaceIdentity
    ) -> WorkspaceCheck:
        """Compares what Intercom sent (`sent_*`), never the cleaned and cut text shown in reports: the id
        exactly, the region in any ASCII case, the name exactly after Unicode NFC (see `_same_name`)."""
        mismatches: list[str] = []
        if actual.sent_id is None or actual.sent_id != expected.id:
            mismatches.append("id")
        if not _same_region(actual.sent_region, expected.region):
            mismatches.append("region")
        if expected.name is not None and not _same_name(actual.sent_name, expected.name):
            mismatches.append("name")
        first = mismatches[0] if mismatches else None
        return WorkspaceCheck(
            status=WorkspaceStatus.MISMATCH if mismatches else WorkspaceStatus.MATCH,
            expected=expected,
            actual=actual,
            mismatches=tuple(mismatches),
            position=spec.position_of(f"$.workspace.{first}" if first else "$.workspace"),
        )

    async def _check_permission(
        self,
        spec: ConnectorSpec,
        client: IntercomClient,
        permission: Permission,
        declared: Declared = Declared.REQUIRED,
    ) -> PermissionResult:
        entry = self._catalog.probes_for(permission)
        if entry is None or not entry.probes:
            return self._result(spec, permission, Verdict.UNVERIFIABLE, (), declared=declared)
        answers = await asyncio.gather(*(self._send(client, probe) for probe in entry.probes))
        classified = [
            classify(probe, answer, self._catalog.common_answers)
            for probe, answer in zip(entry.probes, answers, strict=True)
        ]
        verdict = combine([item.verdict for item in classified])
        labels = _labels(entry, classified, verdict)
        # Each piece of evidence keeps the verdict of its own probe: a forbidden permission is absent only
        # when no probe of it was granted (`validator.policy`).
        evidence = tuple(replace(item.evidence, verdict=item.verdict) for item in classified)
        result = self._result(spec, permission, verdict, evidence, labels, declared=declared)
        if self._progress is not None:
            self._progress(spec.path, permission, verdict)
        return result

    async def _send(self, client: IntercomClient, probe: Probe) -> Answer:
        return await client.request(probe.method, probe.path, query=probe.query, body=probe.body)

    def _result(
        self,
        spec: ConnectorSpec,
        permission: Permission,
        verdict: Verdict,
        evidence: tuple[Evidence, ...],
        labels: tuple[str, ...] | None = None,
        *,
        declared: Declared = Declared.REQUIRED,
    ) -> PermissionResult:
        """A verdict with its evidence and Developer Hub labels; no advice (`validator.advice` adds it), and
        no judgement of what it means for the policy (`validator.policy` adds it)."""
        entry = self._catalog.probes_for(permission)
        chosen = labels if labels is not None else (entry.labels if entry else ())
        if declared is Declared.FORBIDDEN:
            position = spec.policy.forbidden_positions.get(permission) or spec.position_of(
                "$.policy.forbidden"
            )
        elif declared is Declared.UNDECLARED:
            position = spec.position_of("$.permissions")  # excess has no line of its own: the key
        else:
            position = spec.position_of_permission(permission)
        return PermissionResult(
            permission=permission,
            verdict=verdict,
            evidence=evidence,
            labels=chosen,
            position=position,
            declared=declared,
        )


def _labels(entry: PermissionProbes, classified: Sequence[Classified], verdict: Verdict) -> tuple[str, ...]:
    """The permission's labels, plus those of the probes that came back with the deciding verdict."""
    labels = list(entry.labels)
    for probe, item in zip(entry.probes, classified, strict=True):
        if item.verdict is verdict and verdict is not Verdict.GRANTED:
            labels.extend(label for label in probe.labels if label not in labels)
    return tuple(labels)


def _same_name(sent: str | None, declared: str) -> bool:
    """Workspace names compare exactly, after Unicode NFC on both sides and nothing else.

    NFC only joins what Unicode calls the same text written two ways (an "é" as one code point, or as "e"
    plus a combining accent, which editors and operating systems choose differently). Nothing is trimmed,
    case-folded or compatibility-mapped (NFKC would make "ﬁ" "fi" and full-width letters plain), and no
    invisible or control character is dropped or stands for another: "Acme\u200bSupport" is not
    "AcmeSupport", nor the "Acme?Support" a report shows for it. A stricter rule can only cause a mismatch
    fixed by copying the name exactly; a looser one could pass a token of another workspace.
    """
    return sent is not None and unicodedata.normalize("NFC", sent) == unicodedata.normalize("NFC", declared)


def _same_region(sent: str | None, declared: Region | str | None) -> bool:
    """Regions compare in any ASCII case ("US" is us, API-NOTES §1), on the whole string as sent."""
    return sent is not None and sent.isascii() and declared is not None and sent.lower() == str(declared)


def _region(value: str | None) -> Region | str | None:
    """The region to show: a known one, else the text as sent, made printable and cut."""
    if value is None:
        return None
    if value.isascii():  # lower case outside ASCII can turn a look-alike into a letter (the Kelvin sign)
        try:
            return Region(value.lower())
        except ValueError:
            pass
    return _printable(value, 20)


def _printable(text: str, limit: int = 200) -> str:
    """Text from an answer, made safe to print: no control characters (escape sequences, CI workflow
    commands on a line of their own, characters XML forbids), and no longer than `limit`."""
    cleaned = "".join(character if character.isprintable() else "?" for character in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
