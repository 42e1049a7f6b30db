"""The loopback listener of `login`: how a callback's query is read, and which callbacks end the wait."""

from __future__ import annotations

import httpx
import pytest

from validator.errors import ExitCode, ValidatorError
from validator.login.listener import MAX_REFUSED_CALLBACKS, listen
from validator.login.protocol import Callback, LoginError, code_from

STATE = "the-state-of-this-login"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code=ab+c/d=&state=s", Callback(code="ab+c/d=", state="s")),
        ("code=ab%2Bc%2Fd%3D&state=s", Callback(code="ab+c/d=", state="s")),
        ("code=x%20y&state=s", Callback(code="x y", state="s")),  # an encoded space is a space
        ("code=AAA==&state=s", Callback(code="AAA==", state="s")),
        ("state=s&code=first&code=second", Callback(code="first", state="s")),
        ("error=access_denied&state=s", Callback(error="access_denied", state="s")),
        ("code=&state", Callback(code="", state="")),
        ("&&code=c&", Callback(code="c")),
        ("", Callback()),
        ("c%6Fde=k", Callback(code="k")),
    ],
    ids=["plus", "encoded", "space", "padding", "repeated", "error", "blank", "empty-pairs", "none", "name"],
)
def test_the_query_is_percent_decoded_once_and_a_plus_stays_a_plus(query: str, expected: Callback) -> None:
    assert Callback.from_query(query) == expected


_BROWSER = httpx.Client(timeout=5)


def _get(base: str, query: str) -> httpx.Response:
    return _BROWSER.get(f"{base}?{query}")


def test_a_forged_callback_is_answered_400_and_the_wait_goes_on_until_the_real_one() -> None:
    with listen(STATE) as listener:
        forged = _get(listener.redirect_uri, "code=attacker&state=guess")
        early = listener.wait(0.2)
        real = _get(listener.redirect_uri, f"code=ab+c/d=&state={STATE}")
        callback = listener.wait(2)

    assert forged.status_code == 400 and "does not belong to the running login" in forged.text
    assert early is None  # the forged one did not end the wait
    assert real.status_code == 200
    assert callback is not None and code_from(callback, STATE) == "ab+c/d="
    assert listener.refused == 1


def test_an_oauth_error_with_the_right_state_ends_the_wait_and_one_with_a_wrong_state_does_not() -> None:
    with listen(STATE) as listener:
        _get(listener.redirect_uri, "error=access_denied&state=guess")
        early = listener.wait(0.2)
        page = _get(listener.redirect_uri, f"error=access_denied&state={STATE}")
        callback = listener.wait(2)

    assert early is None
    assert page.status_code == 400 and "The app was not authorized." in page.text
    assert callback is not None
    with pytest.raises(LoginError) as raised:
        code_from(callback, STATE)
    assert raised.value.exit_code is ExitCode.LOGIN_DENIED and isinstance(raised.value, ValidatorError)


def test_only_a_flood_of_forged_callbacks_ends_the_wait_and_it_ends_with_the_state_error() -> None:
    with listen(STATE) as listener:
        for _ in range(MAX_REFUSED_CALLBACKS - 1):
            assert _get(listener.redirect_uri, "code=c&state=guess").status_code == 400
        before = listener.wait(0.1)
        _get(listener.redirect_uri, "code=c")  # no state at all counts too
        callback = listener.wait(2)
        late = _get(listener.redirect_uri, f"code=c&state={STATE}")

    assert before is None
    assert callback is not None
    with pytest.raises(LoginError) as raised:
        code_from(callback, STATE)
    assert raised.value.exit_code is ExitCode.LOGIN_STATE
    assert late.status_code == 409  # the login is over; the real code is not taken any more
