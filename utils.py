"""Module-level helpers of the addon: normalising what people type, masking what they see."""

import base64
import hashlib
import re

from . import const


def normalize_phone(raw):
    """Return ``raw`` as DOKU's ``62…`` form, or None when it cannot be one."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits if const.PHONE_RE.fullmatch(digits) else None


def normalize_secret(raw):
    """Employees may type the secret in lower case or with spaces and dashes."""
    return re.sub(r"[\s-]", "", raw or "").upper()


def reference_tag(*parts):
    """5 letters and digits derived from ``parts``: tells apart the references that
    databases and companies send to one provider account."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return base64.b32encode(digest).decode()[:const.REFERENCE_TAG_LENGTH]


def mask_account_number(number):
    """All but the last 4 digits hidden: what the link, the page and the emails show."""
    return "•••• " + number[-4:]

