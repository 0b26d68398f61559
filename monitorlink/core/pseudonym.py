"""Privacy at the edge: citizen service numbers (BSN) become keyed pseudonyms before anything is written.

A BSN is 9 digits that pass the "11-check" (elfproef): 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is divisible by 11.
Person-level feeds are meant to carry a pseudonym already (HMAC-SHA256 of the BSN with the regional key,
as hex), but real deliveries sometimes carry the raw number. The connectors replace such a value with the
pseudonym the source *should* have sent — the same function, so the person still links across sources —
and count the replacement in the batch's quality report. The key comes from the environment; only a
clearly marked development mode (`MONITORLINK_DEV_MODE=1`) has a built-in key, and it says so loudly.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from monitorlink.core.config import env_flag

KEY_VARIABLE = "MONITORLINK_PSEUDONYM_KEY"
DEV_MODE_VARIABLE = "MONITORLINK_DEV_MODE"
#: Public on purpose: data pseudonymised with it is only fit for simulated inputs.
DEV_KEY = "monitorlink-dev-key-NOT-FOR-REAL-DATA"

_NINE_DIGITS = re.compile(r"^\d{9}$")
#: A standalone 9-digit token in text (not part of a longer number or a hex string).
BSN_LIKE_TOKEN = re.compile(r"\b\d{9}\b")


class MissingPseudonymKey(RuntimeError):
    """No key configured and not in development mode: person-level feeds cannot be read safely."""


def is_bsn(value: str) -> bool:
    """True for 9 digits that pass the 11-check (a leading zero is allowed, as in real BSNs)."""
    if not _NINE_DIGITS.match(value):
        return False
    digits = [int(c) for c in value]
    total = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits[:8], strict=True))
    return (total - digits[8]) % 11 == 0 and value != "000000000"


def dev_mode() -> bool:
    """Whether the clearly marked development mode is on (simulated data only)."""
    return env_flag(DEV_MODE_VARIABLE)


def pseudonym_key() -> bytes:
    """The regional key from the environment, or the public dev key in development mode."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if key:
        return key.encode("utf-8")
    if dev_mode():
        return DEV_KEY.encode("utf-8")
    raise MissingPseudonymKey(
        f"{KEY_VARIABLE} is not set. Person-level feeds need the regional pseudonym key; for simulated "
        f"data only, set {DEV_MODE_VARIABLE}=1 to use the public development key."
    )


def pseudonymise(bsn: str, key: bytes) -> str:
    """HMAC-SHA256 of the BSN under the regional key, as 64 hex characters."""
    return hmac.new(key, bsn.encode("ascii"), hashlib.sha256).hexdigest()


#: What a citizen service number in free text becomes: it has no analytic use there, so no pseudonym.
BSN_MASK = "[BSN]"


def mask_bsns(text: str) -> str:
    """`text` with every standalone valid BSN replaced by `BSN_MASK` (reasons, logs, free text)."""
    return BSN_LIKE_TOKEN.sub(lambda match: BSN_MASK if is_bsn(match.group(0)) else match.group(0), text)


def bsn_tokens(text: str) -> list[str]:
    """Every standalone 9-digit token in `text` that passes the 11-check (for scans of outputs)."""
    return [token for token in BSN_LIKE_TOKEN.findall(text) if is_bsn(token)]
