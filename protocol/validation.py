"""Field checks shared by the providers' request builders: a bad field raises
FieldValidationError naming it, and money is refused rather than altered."""

from decimal import Decimal

from .errors import FieldValidationError


def text(field, value, pattern=None, rule=None, *, limit=None, required=True):
    """``value`` when it is text within ``limit`` characters matching ``pattern`` (``rule``
    says how in the error); None for an optional blank value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldValidationError(field, "required")
        return None
    if not isinstance(value, str):
        raise FieldValidationError(field, "must be text")
    if limit and len(value) > limit:
        raise FieldValidationError(field, f"at most {limit} characters")
    if pattern and not pattern.fullmatch(value):
        raise FieldValidationError(field, rule)
    return value


def positive_amount(value):
    """``value`` as an exact Decimal greater than 0 (not a bool, not NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise FieldValidationError("amount", "must be a number")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount <= 0:
        raise FieldValidationError("amount", "must be greater than 0")
    return amount


def exact_float(amount, rule="too many digits to send exactly"):
    """The Decimal ``amount`` as the float a JSON body carries; FieldValidationError
    (``rule``) when that float is not exactly ``amount``: it would be sent altered."""
    number = float(amount)
    if Decimal(repr(number)) != amount:
        raise FieldValidationError("amount", rule)
    return number
