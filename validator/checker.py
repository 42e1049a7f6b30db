"""The check: `/me` first, then every declared permission probed concurrently, each answer classified.

Classification is conservative by construction: an answer becomes `granted` only when a catalog rule for
that exact probe explains it (status, error code, body type, and for a success the documented shape of the
whole body). Everything else, including answers that look fine but are not understood, is `inconclusive`.

The checker decides and shows why (verdicts, evidence, Developer Hub labels); what to do about a verdict is
`validator.advice`'s job, applied to the result afterwards.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote

from validator.catalog import AnswerRule, Catalog, ControlRequest, PermissionProbes, Probe
from validator.intercom import Answer, IntercomClient
from validator.model import (
    Access,
    ConnectorSpec,
    DataType,
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
    Notice,
    PermissionResult,
    TokenCheck,
    WorkspaceCheck,
    WorkspaceIdentity,
)

# When several probes back one permission, the most telling verdict wins: a definite "missing" beats a
# plan restriction, which beats not knowing; "granted" only when every probe says so.
_PRECEDENCE = (Verdict.MISSING, Verdict.PLAN_RESTRICTED, Verdict.INCONCLUSIVE, Verdict.UNVERIFIABLE)

ProgressHook = Callable[[str, Permission, Verdict], None]

CONVERSATIONS_READ = Permission(DataType.CONVERSATIONS, Access.READ)
TICKETS_READ = Permission(DataType.TICKETS, Access.READ)
# API-NOTES §3, §8 [DOC]: without Read tickets, conversation lists and searches silently leave out every
# conversation that is a ticket; a 200 to GET /conversations says nothing about it.
TICKETS_HIDDEN = "tickets_hidden_from_conversations"
API_VERSION_UNCHECKED = "api_version_unchecked"


@dataclass(frozen=True)
class Classified:
    verdict: Verdict
    evidence: Evidence
    compared_with: Answer | None = None  # the route-miss control the verdict was read against


@dataclass(frozen=True)
class RouteMissControl:
    """What the control request of one method got in this run: how Intercom answers a route it does not serve.

    `statuses` are the answers a route miss can have (the catalog's `route_miss.statuses`); a control that
    got anything else (no answer, a 5xx, a 429) shows nothing about route misses.
    """

    answer: Answer
    statuses: tuple[int, ...]

    @property
    def usable(self) -> bool:
        return self.answer.status in self.statuses


def classify(
    probe: Probe,
    answer: Answer,
    common: Sequence[AnswerRule],
    control: RouteMissControl | None = None,
) -> Classified:
    """Read one answer with the probe's own rules, then the common ones; unexplained means inconclusive.

    A rule marked `route_miss_possible` counts only when `control` (the control request of the probe's
    method, sent in the same run) shows that a route miss answers otherwise.
    """
    if answer.status is None:
        return Classified(
            Verdict.INCONCLUSIVE,
            _evidence(answer, None, f"no answer after {answer.attempts} attempt(s): {answer.failure}"),
        )
    for rule in (*probe.answers, *common):
        if _matches(rule, answer):
            if rule.route_miss_possible:
                return _against_control(rule, answer, control)
            return Classified(rule.verdict, _evidence(answer, rule.strength, rule.note))
    if probe.method != "GET" and 200 <= answer.status < 300 and not _is_read(probe):
        note = (
            "the write probe SUCCEEDED, which should be impossible: data may have changed; please report this"
        )
        return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, note))
    return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, _unexplained(answer, probe)))


def _against_control(rule: AnswerRule, answer: Answer, control: RouteMissControl | None) -> Classified:
    """A 404 that a route miss could also give: evidence only if the control's answer differs from it."""
    if control is None:
        note = (
            "this 404 may be Intercom's answer to a route it does not serve, and no control request was sent"
        )
        return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, note))
    seen = _answer_line(control.answer)
    if not control.usable:
        note = (
            f"this 404 may be Intercom's answer to a route it does not serve, and the control request "
            f"({seen}) got no route-miss answer to compare it with"
        )
        return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, note), control.answer)
    paths = (answer.path, control.answer.path)
    if _fingerprint(answer, paths) == _fingerprint(control.answer, paths):
        note = (
            f"Intercom answers a route it does not serve the same way ({seen}): this 404 may mean that the "
            "route does not exist in this Intercom-Version, not that the object does not"
        )
        return Classified(Verdict.INCONCLUSIVE, _evidence(answer, None, note), control.answer)
    unlike = f"not a route miss, which answers otherwise ({seen})"
    granted_note = f"{rule.note}; {unlike}" if rule.note else unlike
    return Classified(rule.verdict, _evidence(answer, rule.strength, granted_note), control.answer)


def _answer_line(answer: Answer) -> str:
    code, _ = answer.error
    status = str(answer.status) if answer.status is not None else "no answer"
    return f"{answer.method} {answer.path} → {status}" + (f" {code}" if code else "")


def _fingerprint(answer: Answer, paths: Sequence[str]) -> tuple[object, ...]:
    """What tells one answer from another: status, body type, error code and message, the message with
    every piece of the compared requests' paths masked out (a route miss must not differ only in the path it
    names, whether verbatim, percent-encoded, by its parent or by its id)."""
    code, message = answer.error
    if message is not None:
        message = _path_masked(message, paths)
    return (answer.status, answer.body_is_json, answer.body_type, code, message)


def _path_masked(message: str, paths: Sequence[str]) -> str:
    """`message` percent-decoded, each segment of `paths` (the same for both messages compared, so that the
    masking is symmetric) and every run of them with slashes between replaced by one `{path}`."""
    text = unquote(message)
    segments = sorted({segment for path in paths for segment in path.split("/") if segment}, key=len)
    for segment in reversed(segments):  # the longest first: "0" must not split "000000000000000000000000"
        text = text.replace(segment, "\0")
    return re.sub("/*\0(?:/*\0)*/*", "{path}", text)


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


def combine(verdicts: Sequence[Verdict], alternatives: bool = False) -> Verdict:
    """One verdict for a permission from its probes' verdicts.

    With `alternatives` (the probes are alternative proofs of the same labels) one `granted` suffices when
    no probe says `missing` or `plan_restricted`; otherwise every probe must grant.
    """
    if verdicts and all(verdict is Verdict.GRANTED for verdict in verdicts):
        return Verdict.GRANTED
    refused = (Verdict.MISSING, Verdict.PLAN_RESTRICTED)
    if alternatives and Verdict.GRANTED in verdicts and not any(verdict in refused for verdict in verdicts):
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

    @property
    def unverified(self) -> bool:
        """A valid token that may not read its own identity: the workspace cannot be verified."""
        return self.token.status is TokenStatus.VALID and self.identity is None


class Checker:
    """Runs the check of one connector with one client (which bounds the requests in flight)."""

    def __init__(
        self,
        catalog: Catalog,
        progress: ProgressHook | None = None,
        clock: Callable[[], float] = time.perf_counter,
        survey: bool = False,
    ) -> None:
        """`survey`: probe every permission the catalog can check, whatever `policy.excess` says (so that a
        later run can compare: `validate --baseline`)."""
        self._catalog = catalog
        self._progress = progress
        self._clock = clock  # measures how long each check took (JUnit's `time`); tests pin it
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
        started = self._clock()
        me = await client.request(identity_check.method, identity_check.path)
        token, identity = self._read_identity(me, token_source)
        return Identified(replace(token, elapsed=self._clock() - started), identity)

    async def probe(
        self, spec: ConnectorSpec, client: IntercomClient, identified: Identified
    ) -> ConnectorResult:
        """Compare the workspace `identify` found with the spec's, and probe every declared permission.

        No `/me` is sent here: the result always describes the identity that was passed in, so a caller that
        writes that identity down (`init`) knows the permissions were probed in the same run.

        A valid token that may not read `/me` (`Identified.unverified`) leaves the workspace `unverified` and
        the permissions are probed all the same; should a probe then answer that the token itself is refused,
        the result is that of a rejected token.
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
            warnings=self._version_warnings(spec, api_version),
        )
        # A connector that forbids Read tickets has chosen not to see them: no advice to tick it.
        watch_tickets = (
            CONVERSATIONS_READ in spec.permissions
            and TICKETS_READ not in spec.permissions
            and TICKETS_READ not in spec.policy.forbidden
        )
        if token.status is TokenStatus.REJECTED:
            # A rejected token proves nothing more: no probe is sent; reports list what was not checked.
            return replace(base, not_checked=spec.permissions)
        if identity is None and not identified.unverified:
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
            unknown = self._tickets_warning(spec, None) if watch_tickets else None
            warnings = base.warnings + ((unknown,) if unknown is not None else ())
            return replace(base, workspace=workspace, permissions=results, warnings=warnings)
        if identity is None:
            workspace = WorkspaceCheck(
                WorkspaceStatus.UNVERIFIED,
                expected,
                position=spec.position_of("$.workspace"),
                labels=self._catalog.identity.unreadable.labels,
            )
        else:
            workspace = self._compare_workspace(spec, expected, identity)
        # The probes run even when the workspace mismatches: they are harmless, and one run then tells the
        # user everything that is wrong with the token. Read tickets, when conversations are read without
        # it, is probed in the same round; its result is kept out of `permissions` (it is not declared).
        probed = await self._probe_all(spec, client, TICKETS_READ if watch_tickets else None)
        if identified.unverified:
            refused = next(
                (answer for _, answers in probed for answer in answers if self._refuses(answer)), None
            )
            if refused is not None:
                return replace(base, token=self._rejected_later(token, refused), not_checked=spec.permissions)
        declared = tuple(result for result, _ in probed[: len(self.targets(spec))])
        warnings = base.warnings
        if watch_tickets:
            hidden = self._tickets_warning(spec, probed[-1][0])
            warnings += (hidden,) if hidden is not None else ()
        return replace(base, workspace=workspace, permissions=declared, warnings=warnings)

    async def _probe_all(
        self, spec: ConnectorSpec, client: IntercomClient, undeclared: Permission | None = None
    ) -> list[tuple[PermissionResult, tuple[Answer, ...]]]:
        """Every declared permission's probes (and `undeclared`'s, last), with the route-miss controls they
        need, in one round."""
        api_version = self._catalog.api_version_for(spec)
        targets = self.targets(spec)  # needed, forbidden and (under excess) undeclared: one round
        wanted = [permission for permission, _ in targets] + ([undeclared] if undeclared is not None else [])
        controls = {
            control.method: asyncio.ensure_future(self._send_control(client, control))
            for control in self._catalog.controls_for(wanted, api_version)
        }
        checks = [
            self._check_permission(spec, client, permission, controls, kind=kind)
            for permission, kind in targets
        ]
        if undeclared is not None:
            checks.append(self._check_permission(spec, client, undeclared, controls, declared=False))
        try:
            return list(await asyncio.gather(*checks))
        finally:
            for task in controls.values():
                task.cancel()  # a no-op once done; ends a control nobody waits for any more

    async def _send_control(self, client: IntercomClient, control: ControlRequest) -> RouteMissControl:
        answer = await client.request(control.method, control.path, body=control.body)
        return RouteMissControl(answer, self._catalog.route_miss.statuses)

    def _refuses(self, answer: Answer) -> bool:
        """Whether a probe's answer refuses the token itself: the identity's rejected status in Intercom's
        envelope, with any code but those of a valid token refused one resource (token_unauthorized)."""
        identity = self._catalog.identity
        return (
            answer.status == identity.rejected_status
            and answer.is_error_envelope
            and not any(_matches(rule, answer) for rule in identity.unreadable.answers)
        )

    def _rejected_later(self, token: TokenCheck, refused: Answer) -> TokenCheck:
        code, _ = refused.error
        identity = self._catalog.identity
        answer = f"{refused.status} {code}" if code else str(refused.status)
        message = (
            f"{identity.method} {identity.path} could not read the workspace, and {refused.method} "
            f"{refused.path} then answered {answer}: Intercom rejected the token itself"
        )
        evidence = (*token.evidence, _evidence(refused, None, "the token itself was refused"))
        return TokenCheck(TokenStatus.REJECTED, code or "unauthorized", token.env, evidence, message=message)

    def _version_warnings(self, spec: ConnectorSpec, api_version: str) -> tuple[Notice, ...]:
        """A version the probes were not checked against is used with the default version's probes."""
        if self._catalog.is_checked(api_version):
            return ()
        checked = self._catalog.checked_api_versions
        span = " and ".join((", ".join(checked[:-1]), checked[-1])) if len(checked) > 1 else checked[0]
        message = (
            f"Intercom-Version {api_version} is not one the probes were checked against (only {span}): the "
            f"probes of {self._catalog.default_api_version} were sent with it, and a route that changed in "
            f"{api_version} could make a verdict wrong"
        )
        return (Notice(API_VERSION_UNCHECKED, message, position=spec.position_of("$.api_version")),)

    def _tickets_warning(self, spec: ConnectorSpec, probed: PermissionResult | None) -> Notice | None:
        """The warning for conversations read without Read tickets, from that permission's probe (None:
        not probed); nothing when the token has it."""
        entry = self._catalog.probes_for(TICKETS_READ)
        labels = entry.labels if entry is not None else ()
        named = " or ".join(f'"{label}"' for label in labels)
        if probed is not None and probed.verdict is Verdict.GRANTED:
            return None
        if probed is not None and probed.verdict is Verdict.MISSING:
            message = (
                f"conversations: [read] is declared without tickets: [read], and the token lacks {named}: "
                "conversation lists and searches will leave out every conversation that is a ticket. Tick "
                f"{named} (and declare tickets: [read]) if the connector must see them"
            )
        else:
            why = f"its check was {probed.verdict}" if probed is not None else "it was not checked"
            message = (
                "conversations: [read] is declared without tickets: [read], and whether the token has "
                f"{named} could not be ruled out ({why}): without it, conversation lists and searches leave "
                "out every conversation that is a ticket"
            )
        return Notice(
            TICKETS_HIDDEN,
            message,
            labels=labels,
            permission=CONVERSATIONS_READ,
            position=spec.position_of_permission(CONVERSATIONS_READ),
        )

    def _read_identity(self, me: Answer, token_source: str) -> tuple[TokenCheck, WorkspaceIdentity | None]:
        code, _ = me.error
        evidence = (_evidence(me, None, None),)
        unreadable = self._catalog.identity.unreadable
        if any(_matches(rule, me) for rule in unreadable.answers):
            # API-NOTES §2: a valid token refused this one resource (it may need "Read admins").
            note = (
                f"the token is valid, but may not read its own identity ({code}): without "
                f"{_quoted(unreadable.labels)} the workspace cannot be verified"
            )
            return TokenCheck(
                TokenStatus.VALID, code, token_source, (_evidence(me, Strength.INFERENCE, note),)
            ), None
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
        controls: Mapping[str, asyncio.Future[RouteMissControl]],
        *,
        declared: bool = True,
        kind: Declared = Declared.REQUIRED,
    ) -> tuple[PermissionResult, tuple[Answer, ...]]:
        entry = self._catalog.probes_for(permission, self._catalog.api_version_for(spec))
        if entry is None or not entry.probes:
            return self._result(spec, permission, Verdict.UNVERIFIABLE, (), declared=kind), ()
        started = self._clock()
        answers = tuple(await asyncio.gather(*(self._send(client, probe) for probe in entry.probes)))
        classified = []
        for probe, answer in zip(entry.probes, answers, strict=True):
            control = None
            if probe.method in controls and any(rule.route_miss_possible for rule in probe.answers):
                control = await controls[probe.method]
            classified.append(classify(probe, answer, self._catalog.common_answers, control))
        elapsed = self._clock() - started  # its probes and the route-miss controls they waited for
        verdict = combine([item.verdict for item in classified], entry.alternatives)
        labels = _labels(entry, classified, verdict)
        # Each piece of evidence keeps the verdict of its own probe: a forbidden permission is absent only
        # when no probe of it was granted (`validator.policy`).
        evidence = [replace(item.evidence, verdict=item.verdict) for item in classified]
        shown: list[Answer] = []
        for item in classified:
            if item.compared_with is not None and not any(item.compared_with is seen for seen in shown):
                shown.append(item.compared_with)
        note = "route-miss control: how Intercom answers a path it does not serve"
        evidence.extend(_evidence(control, None, note) for control in shown)
        result = self._result(spec, permission, verdict, tuple(evidence), labels, declared=kind)
        result = replace(result, elapsed=elapsed)
        deciding = [p for p, item in zip(entry.probes, classified, strict=True) if item.verdict is verdict]
        if entry.labels_inferred or any(probe.labels_inferred for probe in deciding):
            result = replace(result, labels_inferred=True)
        if self._progress is not None and declared:
            self._progress(spec.path, permission, verdict)
        return result, answers

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


def _quoted(labels: Sequence[str]) -> str:
    return ", ".join(f'"{label}"' for label in labels)


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
