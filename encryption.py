"""Secrets encrypted at rest: employees' account numbers and the providers' keys.

An `EncryptedChar` field stores its value as a Fernet token (AES-128-CBC and HMAC-SHA256,
from `cryptography`) under a key kept outside the database: the option
``payout_encryption_key`` of Odoo's configuration file, else the environment variable
``HR_PAYOUT_LINK_ENCRYPTION_KEY``. A database dump alone reveals none of these values.

The same key keeps a dump from checking guesses offline (`fingerprint`): the hash of the
employee's claim secret is stored encrypted, and an account fingerprint, which must stay
searchable, is an HMAC under a subkey of the first key (its inner value is stored
encrypted, so that a new first key can recompute it).

Several keys, comma-separated, rotate the key: the first encrypts, any of them decrypts;
``payout.encryption`` re-encrypts every value under the first (bin/rotate-key), after which
the old keys can go.

A missing or wrong key is an EncryptionKeyError, a UserError that says what to do; the
stored values are never touched by it.
"""

import base64
import functools
import hashlib
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import LazyTranslate, config

_lt = LazyTranslate(__name__)

CONFIG_OPTION = "payout_encryption_key"
ENVIRONMENT_VARIABLE = "HR_PAYOUT_LINK_ENCRYPTION_KEY"
# What a stored value starts with once encrypted; a value without it is clear text (from a
# write not flushed yet, or from before the encryption, which the migration encrypts).
PREFIX = "payout-enc:"
# What the fingerprint subkey is derived for: a key used for one purpose only.
FINGERPRINT_PURPOSE = b"hr_payout_link fingerprint"


class EncryptionKeyError(UserError):
    """No key, a malformed key, or a value encrypted under another key."""


def generate_key():
    return Fernet.generate_key().decode()


def _configured_keys():
    raw = config.get(CONFIG_OPTION) or os.environ.get(ENVIRONMENT_VARIABLE) or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def _cipher(keys=None):
    return _cipher_of(tuple(_configured_keys() if keys is None else keys))


@functools.lru_cache(maxsize=8)
def _cipher_of(keys):
    """The MultiFernet of ``keys``, made once per set of keys: every secret read or written
    goes through it."""
    if not keys:
        raise EncryptionKeyError(_lt(
            "hr_payout_link keeps account numbers and provider keys encrypted, and has no "
            "key: set %(option)s in Odoo's configuration file (or the environment variable "
            "%(variable)s) to a Fernet key, e.g. the output of `python3 -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`, "
            "then restart Odoo.", option=CONFIG_OPTION, variable=ENVIRONMENT_VARIABLE))
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise EncryptionKeyError(_lt(
            "%(option)s: each key must be a Fernet key (32 bytes, url-safe base64): %(error)s",
            option=CONFIG_OPTION, error=error)) from error


def is_encrypted(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value, keys=None):
    """``value`` as stored: a Fernet token under the first key, marked."""
    if not value or is_encrypted(value):
        return value
    return PREFIX + _cipher(keys).encrypt(value.encode()).decode()


def decrypt(value, keys=None):
    """The clear text of a stored ``value`` (clear text is returned as it is)."""
    if not is_encrypted(value):
        return value
    try:
        return _cipher(keys).decrypt(value.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise EncryptionKeyError(_lt(
            "A value was encrypted under another key than %(option)s holds: set it to the "
            "key in use when it was stored (several keys, comma-separated, are all tried). "
            "Nothing was changed.", option=CONFIG_OPTION)) from error


def fingerprint(value, keys=None):
    """A searchable keyed hash of ``value``: HMAC-SHA256 under a subkey derived from the
    first key (HMAC-SHA256 of its 32 bytes and `FINGERPRINT_PURPOSE`), in hex.

    Unlike a Fernet token it is the same for the same value, so that it can be searched;
    unlike an HMAC keyed with ``database.secret`` (which a dump holds), a dump alone cannot
    check a guess against it. It changes with the first key: whoever stores one also
    stores ``value`` encrypted, to compute it again under a new key (bin/rotate-key).
    """
    return hmac.new(_fingerprint_key(tuple(_configured_keys() if keys is None else keys)),
                    value.encode(), hashlib.sha256).hexdigest()


def fingerprints(value):
    """``value``'s fingerprint under each configured key, the first's first: what a
    stored fingerprint may be between a change of the first key and bin/rotate-key."""
    return [fingerprint(value, [key]) for key in _configured_keys()] or [fingerprint(value)]


@functools.lru_cache(maxsize=8)
def _fingerprint_key(keys):
    _cipher_of(keys)  # the same errors for a missing or malformed key
    return hmac.new(base64.urlsafe_b64decode(keys[0]), FINGERPRINT_PURPOSE,
                    hashlib.sha256).digest()


class _Encrypted:
    """Stored encrypted, read in clear (see the module's docstring). Not searchable: the
    database holds no clear value to compare with."""

    def convert_to_column(self, value, record, values=None, validate=True):
        return encrypt(super().convert_to_column(value, record, values, validate))

    def convert_to_cache(self, value, record, validate=True):
        if validate and is_encrypted(value):
            raise UserError(record.env._("%(field)s: a value cannot start with %(prefix)r.",
                                         field=self.string, prefix=PREFIX))
        return super().convert_to_cache(value, record, validate)

    def convert_to_record(self, value, record):
        return decrypt(super().convert_to_record(value, record))


class EncryptedChar(_Encrypted, fields.Char):
    """A Char stored encrypted."""


class EncryptedText(_Encrypted, fields.Text):
    """A Text stored encrypted (a PEM key)."""
