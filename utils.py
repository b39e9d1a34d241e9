"""Module-level helpers of the addon: normalising what people type, masking what they see."""

import base64
import hashlib
import re
import unicodedata

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



def name_words(name):
    """The words of a person's name as people write it in any form: without case, accents
    nor punctuation (digits are no part of a name)."""
    plain = unicodedata.normalize("NFKD", name or "")
    plain = "".join(char for char in plain if not unicodedata.combining(char)).casefold()
    return re.findall(r"[^\W\d_]+", plain)


def names_match(typed, recorded):
    """Whether ``typed`` (an account holder) names the person ``recorded`` (the HR record):
    the same words in any order, a word written as its initial ("Dewi L.") allowed on
    either side; no word left out."""
    typed_words, recorded_words = name_words(typed), name_words(recorded)
    if not typed_words or len(typed_words) != len(recorded_words):
        return False

    def same(one, other):
        return one == other or (len(one) == 1 and other.startswith(one)) or (
            len(other) == 1 and one.startswith(other))

    def match(words, candidates):
        if not words:
            return True
        return any(same(words[0], candidate) and match(
            words[1:], candidates[:index] + candidates[index + 1:])
            for index, candidate in enumerate(candidates))

    return match(typed_words, recorded_words)
