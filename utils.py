"""Module-level helpers of the addon: normalising what people type, masking what they see."""

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


def mask_account_number(number):
    """All but the last 4 digits hidden: what the link, the page and the emails show."""
    return "•••• " + number[-4:]

