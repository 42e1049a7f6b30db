"""The output filter: a secret, or any run of 12 or more of its characters in any case, never gets through."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from validator.tokens import FRAGMENT_LENGTH, REDACTED, Scrubber

TOKEN = "dG9rOmhvc3RpbGUtS2FuYXJ5LWtleS0wMDAxLWZvci10ZXN0cw=="


def test_the_whole_token_and_any_long_piece_of_it_are_replaced() -> None:
    scrub = Scrubber([TOKEN])
    assert scrub(f"a {TOKEN} b") == f"a {REDACTED} b"
    assert scrub(f"name: {TOKEN[7:19]}…") == f"name: {REDACTED}…"
    assert scrub(TOKEN[3:40].lower()) == REDACTED
    assert scrub(TOKEN[3:40].upper()) == REDACTED
    assert scrub(TOKEN[10:30].replace("k", "\u212a")) == REDACTED  # the Kelvin sign lower-cases to "k"


def test_pieces_shorter_than_twelve_characters_and_ordinary_text_are_kept() -> None:
    scrub = Scrubber([TOKEN])
    assert scrub(TOKEN[:11]) == TOKEN[:11]
    text = "tags:read granted GET /tags → 200 (proof) [request req-1]"
    assert scrub(text) == text


def test_secrets_shorter_than_a_fragment_are_replaced_only_whole() -> None:
    scrub = Scrubber(["abcdefghij"])
    assert scrub("x abcdefghij y") == f"x {REDACTED} y"
    assert scrub("abcdefghi") == "abcdefghi"


@given(
    start=st.integers(0, len(TOKEN) - FRAGMENT_LENGTH),
    length=st.integers(FRAGMENT_LENGTH, len(TOKEN)),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_no_twelve_character_piece_survives_whatever_surrounds_it(
    start: int, length: int, before: str, after: str
) -> None:
    piece = TOKEN[start : start + length]
    scrubbed = Scrubber([TOKEN])(before + piece + after).lower()
    lowered = TOKEN.lower()
    assert not any(
        lowered[i : i + FRAGMENT_LENGTH] in scrubbed for i in range(len(TOKEN) - FRAGMENT_LENGTH + 1)
    )


def test_scrubbing_a_large_report_takes_linear_time() -> None:
    text = ("tags:read granted GET /tags → 200 (proof) [request req-1]\n" * 20000) + TOKEN[5:30]
    scrub = Scrubber([TOKEN, "x" * 4096])
    started = time.monotonic()
    scrubbed = scrub(text)
    assert time.monotonic() - started < 2
    assert scrubbed.endswith(REDACTED)


def test_a_token_split_by_markdown_escapes_is_still_replaced() -> None:
    token = "abcdefgh_ijklmnop~qrstuvwx"
    shown = token.replace("_", "\\_").replace("~", "\\~")
    scrubbed = Scrubber([token])(f"| name | {shown} |")
    assert scrubbed == f"| name | {REDACTED} |"


def test_backslashes_elsewhere_are_left_as_they_are() -> None:
    assert Scrubber([TOKEN])("a \\_b\\ c \\\\") == "a \\_b\\ c \\\\"


def _encoded(character: str, how: int) -> str:
    return [character, f"%{ord(character):02X}", f"%{ord(character):02x}", f"&#{ord(character)};"][how % 4]


@given(
    start=st.integers(0, len(TOKEN) - FRAGMENT_LENGTH),
    hows=st.lists(st.integers(0, 4), min_size=len(TOKEN), max_size=len(TOKEN)),
)
def test_a_token_percent_or_reference_encoded_in_any_mix_is_still_replaced(
    start: int, hows: list[int]
) -> None:
    piece = TOKEN[start : start + FRAGMENT_LENGTH]
    shown = "".join(
        f"&#x{ord(character):x};" if how == 4 else _encoded(character, how)
        for character, how in zip(piece, hows, strict=False)
    )
    scrubbed = Scrubber([TOKEN])(f"workspace {shown} (us)")
    assert scrubbed == f"workspace {REDACTED} (us)"


def test_named_character_references_are_looked_through() -> None:
    token = "abcd+efgh/ijkl=mnop:qrst"
    shown = (
        token.replace("+", "&plus;").replace("/", "&sol;").replace("=", "&equals;").replace(":", "&colon;")
    )
    assert Scrubber([token])(f"name {shown}") == f"name {REDACTED}"


def test_encoded_text_without_the_token_is_left_as_it_is() -> None:
    text = "a%20b &amp; c &#43; d &unknownname; e %zz \\_f"
    assert Scrubber([TOKEN])(text) == text


# --- the fast paths (session 16): same results as the slow ones, whatever the text --------------------------

_PIECES = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, b: TOKEN[a : a + b], st.integers(0, len(TOKEN)), st.integers(0, 30)),
    st.sampled_from(["%2B", "&#43;", "&amp", "\\", "\\_", "Σ", "İ", "\u212a", "&plus;", "%", "&"]),
)
_TEXTS = st.lists(_PIECES, max_size=6).map("".join)


@given(text=_TEXTS, upper=st.booleans())
def test_searching_each_block_whole_first_changes_no_result(text: str, upper: bool) -> None:
    import validator.tokens as tokens

    text = text.upper() if upper else text
    fast = Scrubber([TOKEN])(text)
    saved, tokens._FEW_BLOCKS = tokens._FEW_BLOCKS, -1  # every text through the block-by-block loop
    try:
        slow = Scrubber([TOKEN])(text)
    finally:
        tokens._FEW_BLOCKS = saved
    assert fast == slow


_JSON = st.recursive(
    st.one_of(st.none(), st.integers(), st.booleans(), _TEXTS),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_TEXTS, children, max_size=4)),
    max_leaves=12,
)


@given(body=_JSON)
def test_an_answer_searched_whole_first_is_scrubbed_as_string_by_string(body: object) -> None:
    import copy

    import validator.intercom as intercom

    scrub = Scrubber([TOKEN])

    def scrubbed(always_walk: bool) -> object:
        saved = intercom._holds_secret
        if always_walk:
            intercom._holds_secret = lambda value, scrub: True
        try:
            return intercom._scrubbed(copy.deepcopy(body), scrub)
        except ValueError:
            return ValueError  # two keys became one: both ways must say so
        finally:
            intercom._holds_secret = saved

    assert scrubbed(always_walk=False) == scrubbed(always_walk=True)


def test_an_answer_with_the_token_in_a_nested_key_and_value_is_scrubbed() -> None:
    from validator.intercom import _scrubbed

    body = {"data": [{"name": "ok", TOKEN[2:20]: {"v": f"x {TOKEN[30:44].lower()} y"}}], "type": "list"}
    assert _scrubbed(body, Scrubber([TOKEN])) == {
        "data": [{"name": "ok", REDACTED: {"v": f"x {REDACTED} y"}}],
        "type": "list",
    }
