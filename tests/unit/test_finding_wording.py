"""Every piece of advice comes from the catalog, so that every format says the same in the same words."""

from __future__ import annotations

import ast
import copy
import json
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from validator import findings
from validator.advice import PERMISSION_FINDINGS, plain, wording
from validator.advice import remediation as advice_for
from validator.catalog import Catalog, CatalogError, FindingKind, load_catalog, parse_catalog
from validator.formats import Format, render
from validator.model import Auth, AuthMode, Position, TokenStatus, Verdict
from validator.report import ConnectorResult, Evidence, Report, TokenCheck

CATALOG_FILE = Path(__file__).parents[2] / "validator" / "catalog" / "intercom.yaml"
CATALOG = load_catalog()

REJECTED = Report(
    "9.9.9",
    (
        ConnectorResult(
            path="connector.yaml",
            name="rejected",
            auth_mode=AuthMode.ACCESS_TOKEN,
            token=TokenCheck(
                TokenStatus.REJECTED, "token_revoked", "TAGGER_TOKEN", (Evidence("GET", "/me", 401),)
            ),
            workspace=None,
            auth_position=Position(5, 1),
        ),
    ),
)


def raw_catalog() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    return raw


def said(text: str) -> str:
    """What a format says, with its own line breaks, escapes and Markdown undone."""
    text = text.replace("%0A", " ").replace("\\", "").replace("`", "")
    return " ".join(text.split())


def literal_pieces(template: str, words: int = 1) -> list[str]:
    """The words of a catalog text between the values it names, each at least `words` words long."""
    pieces = [literal.strip(" .,;:()") for literal, _, _, _ in string.Formatter().parse(plain(template))]
    return [" ".join(piece.split()) for piece in pieces if len(piece.split()) >= words]


def string_constants(path: Path) -> str:
    """Every string a module's code holds, docstrings left out, one per line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return "\n".join(
        " ".join(node.value.split())
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    )


@pytest.fixture
def other_identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    """The catalog with another identity request, as the findings and the formats see it."""
    raw = raw_catalog()
    raw["identity"]["path"] = "/whoami"
    raw["identity"]["rejected_status"] = 403
    catalog = parse_catalog(raw)
    monkeypatch.setattr(findings, "load_catalog", lambda: catalog)
    findings._wording.cache_clear()
    yield catalog
    findings._wording.cache_clear()


def test_every_kind_of_finding_has_a_rule_and_the_catalogs_words() -> None:
    assert [rule.kind for rule in findings.RULES] == list(FindingKind)
    assert set(CATALOG.remediation.findings) == set(FindingKind)
    assert set(PERMISSION_FINDINGS) == set(Verdict) - {Verdict.GRANTED}
    for rule in findings.RULES:
        words = wording(CATALOG, rule.kind)
        assert (rule.title, rule.description, rule.help) == (words.title, words.description, words.help)
        assert "{" not in rule.title + rule.description + rule.help, rule.id  # every value filled


@pytest.mark.parametrize("verdict", sorted(PERMISSION_FINDINGS))
def test_a_permissions_remediation_and_its_sarif_rule_help_are_the_same_catalog_words(
    verdict: Verdict,
) -> None:
    kind = PERMISSION_FINDINGS[verdict]
    rule = next(rule for rule in findings.RULES if rule.kind is kind)
    auth = Auth(AuthMode.OAUTH, "TAGGER_TOKEN")
    remediation = " ".join((advice_for(CATALOG, verdict, ("Write tags",), auth, "2.15") or "").split())
    help_text = " ".join(rule.help_text.split())

    pieces = literal_pieces(CATALOG.remediation.findings[kind].help)
    assert pieces, kind
    for piece in pieces:
        assert piece in remediation, (kind, piece)
        assert piece in help_text, (kind, piece)
    if verdict is Verdict.MISSING:
        assert CATALOG.remediation.where in remediation and CATALOG.remediation.where in help_text
        assert '"Write tags"' in remediation and "authorize the app again" in remediation


@pytest.mark.parametrize("output_format", [Format.TEXT, Format.JUNIT, Format.GITHUB])
def test_a_rejected_token_gets_the_same_advice_in_the_text_report_and_the_ci_formats(
    output_format: Format,
) -> None:
    help_text = " ".join(findings.TOKEN_REJECTED.help_text.split())

    assert help_text in said(render(output_format, REJECTED))


def test_the_sarif_rule_of_a_rejected_token_carries_the_same_advice() -> None:
    log = json.loads(render(Format.SARIF, REJECTED))
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    (result,) = log["runs"][0]["results"]

    assert rules["token-rejected"]["help"]["text"] == findings.TOKEN_REJECTED.help_text
    assert findings.TOKEN_REJECTED.help_text in result["message"]["text"]


def test_the_formats_name_the_identity_request_of_the_catalog(other_identity: Catalog) -> None:
    text = render(Format.TEXT, REJECTED)
    sarif = json.loads(render(Format.SARIF, REJECTED))
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}

    assert "GET /whoami → 403 token_revoked; no permission was probed." in text
    assert "/me" not in text.replace("GET /me → 401", "")  # the evidence line is the answer's own
    assert rules["token-rejected"]["fullDescription"]["text"].startswith(
        "Intercom rejected the token (GET /whoami answered 403)"
    )
    unknown = ConnectorResult("c.yaml", "c", AuthMode.OAUTH, TokenCheck(TokenStatus.UNKNOWN), None)
    assert "no trustworthy answer from GET /whoami" in render(Format.TEXT, Report("9", (unknown,)))
    assert "GET /whoami gave no trustworthy answer" in render(Format.MARKDOWN, Report("9", (unknown,)))


def test_no_format_or_finding_writes_advice_of_its_own() -> None:
    """The advice sentences of the catalog appear in no module: they are read from the catalog."""
    sources = [Path(findings.__file__), *Path(findings.__file__).parent.joinpath("formats").glob("*.py")]
    code = "\n".join(string_constants(path) for path in sources)
    for kind, text in CATALOG.remediation.findings.items():
        for piece in [*literal_pieces(text.description, 5), *literal_pieces(text.help, 5)]:
            assert piece not in code, (kind, piece)
    assert not re.search(r"GET /me|→ 401|Developer Hub →", code)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw["remediation"]["findings"].pop("token-missing"), "token-missing"),
        (
            lambda raw: raw["remediation"]["findings"]["token-rejected"].update(help="Ask {admin}."),
            r"findings\.token-rejected\.help: names \{admin\}",
        ),
        (
            lambda raw: raw["remediation"]["after_change"].update(oauth="authorize {labels} again"),
            r"after_change\.oauth: names \{labels\}",
        ),
        (lambda raw: raw["remediation"]["findings"]["workspace-mismatch"].update(help=" "), "help"),
        (
            lambda raw: raw["remediation"]["findings"]["connector-invalid"].update(help="{"),
            "connector-invalid",
        ),
    ],
)
def test_the_catalog_refuses_advice_it_cannot_fill(edit: Any, message: str) -> None:
    raw = copy.deepcopy(raw_catalog())
    edit(raw)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(raw)
