"""BSN recognition (11-check) and keyed pseudonyms: the key comes from the environment, dev mode says so."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from monitorlink.core.pseudonym import (
    DEV_KEY,
    MissingPseudonymKey,
    bsn_tokens,
    is_bsn,
    pseudonym_key,
    pseudonymise,
)


@pytest.mark.parametrize("value", ["111222333", "123456782", "010000008"])
def test_numbers_that_pass_the_eleven_check_are_bsns(value: str) -> None:
    assert is_bsn(value)


@pytest.mark.parametrize("value", ["123456789", "12345678", "1234567820", "12345678a", "000000000", ""])
def test_other_values_are_not(value: str) -> None:
    assert not is_bsn(value)


def test_the_pseudonym_is_a_keyed_hmac_stable_per_key() -> None:
    first = pseudonymise("123456782", b"region-key")
    assert first == pseudonymise("123456782", b"region-key")
    assert first != pseudonymise("123456782", b"other-key")
    # The documented construction (README: HMAC-SHA256 of the BSN under the regional key), by the stdlib
    assert first == hmac.new(b"region-key", b"123456782", hashlib.sha256).hexdigest()


def test_no_key_and_no_dev_mode_is_an_error_that_names_both_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MONITORLINK_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("MONITORLINK_DEV_MODE", raising=False)
    with pytest.raises(MissingPseudonymKey, match=r"MONITORLINK_PSEUDONYM_KEY.*MONITORLINK_DEV_MODE=1"):
        pseudonym_key()
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "1")
    assert pseudonym_key() == DEV_KEY.encode()
    monkeypatch.setenv("MONITORLINK_PSEUDONYM_KEY", "the-region's-secret")
    assert pseudonym_key() == b"the-region's-secret"


def test_the_scan_finds_standalone_bsns_but_not_digits_inside_hex_or_longer_numbers() -> None:
    text = "id=123456782; hex=ab123456782cd; long=1234567820; date=20230101; 111222333"
    assert bsn_tokens(text) == ["123456782", "111222333"]
