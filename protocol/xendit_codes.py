"""Xendit's words, each with its source: statuses, events, channel and error codes.

Sources: docs.xendit.co pages (as copied on 2026-04-23 in Adianjayaditya/xendit-docs-rag)
and Xendit's SDKs; research/2026-12-review/providers-audit.md (X6, X9, X14-X16, X24).
"""

# /docs/integration-payouts, "Payout Events".
PAYOUT_EVENTS = {  # v2 callback events, by the payout status they announce
    "SUCCEEDED": "payout.succeeded",
    "FAILED": "payout.failed",
    "REVERSED": "payout.reversed",
}
LINK_STATUS_MAPPING = {
    # /docs/payout-links-overview, "Payout Link Statuses" (current).
    "PENDING": "sent",
    "CLAIMED": "processing",  # the employee claimed it: the payout is initiated
    "COMPLETED": "done",
    "FAILED": "failed",  # final: create a new link (or "expired", see parse_link)
    "VOIDED": "cancelled",  # voided, or expired (see parse_link)
    # /docs/integration-payout-links, "Void a Payout Link": "a response with a VOID status".
    "VOID": "cancelled",
    # /docs/test-scenarios-payout-links: ACTIVE, CANCELED, EXPIRED.
    "ACTIVE": "sent",
    "CANCELED": "cancelled",
    "EXPIRED": "expired",
    # Legacy (xendit-php src/Payouts.php docblock): ISSUED, DISBURSING, LOCKED.
    "ISSUED": "sent",
    "DISBURSING": "processing",
    "LOCKED": "processing",
}
# Link statuses that also say "expired" once given at or after expiration_timestamp:
# FAILED covers "expiring without being claimed" and VOIDED "expired or manually voided"
# (/docs/payout-links-overview).
EXPIRABLE_LINK_STATUSES = {"FAILED", "VOIDED", "VOID"}
# Payout Link events (/docs/integration-payout-links, "Payout Links Events").
LINK_EVENTS = {"disbursement.completed": "done", "disbursement.failed": "failed"}

# /docs/payout-status-lifecycle, "Payout Statuses".
PAYOUT_STATUS_MAPPING = {
    "ACCEPTED": "processing",
    "REQUESTED": "processing",
    "PENDING_COMPLIANCE_ASSESSMENT": "processing",
    "SUCCEEDED": "done",
    "FAILED": "failed",
    "COMPLIANCE_REJECTED": "failed",
    "REVERSED": "failed",  # after SUCCEEDED: the bank sent the money back
    # Cancelled at Xendit (only possible before any money moved): the employee was not
    # paid and has already claimed, so the link fails and can be reissued.
    "CANCELLED": "failed",
}

# Bank clearing code (res.bank.payout_bank_code) -> Xendit channel code, for the
# Indonesian banks shipped in data/res_bank_data.xml. No primary list was read (X24:
# /docs/payout-coverage-indonesia renders with JavaScript): the channels an account can
# pay come from `GET /payouts_channels`; these are the fallback until it answers.
CHANNEL_CODES = {
    "014": "ID_BCA",
    "008": "ID_MANDIRI",
    "009": "ID_BNI",
    "002": "ID_BRI",
    "022": "ID_CIMB",
    "013": "ID_PERMATA",
    "011": "ID_DANAMON",
    "451": "ID_BSI",
    "200": "ID_BTN",
    "016": "ID_MAYBANK",
    "028": "ID_OCBC",
    "019": "ID_PANIN",
    "426": "ID_MEGA",
    "213": "ID_BTPN",
    "536": "ID_BCA_SYR",
    "542": "ID_JAGO",
    "535": "ID_SEABANK",
    "110": "ID_BJB",
}

# What each code means, in one table: the kind of outcome an error answer with it is, and
# what HR reads. REFUSAL: Xendit did not and will not do it (only this fails a link).
# UNKNOWN: Xendit may have done it (look it up, never send it again under a new key).
# FAILURE: a failure_code / failure_reason of a payout or link that failed after it was
# accepted (never an error answer). A code missing here is read by its HTTP status (a 4xx
# other than 404 and 409 is a refusal) and shown as Xendit's own message.
REFUSAL, UNKNOWN, FAILURE = "refusal", "unknown", "failure"
CODES = {
    # Create errors, current (/docs/integration-payouts, /docs/integration-payout-links).
    "API_VALIDATION_ERROR": (REFUSAL, "Xendit refused a field of the request."),
    "CHANNEL_CODE_NOT_SUPPORTED": (REFUSAL, "Xendit cannot pay to this bank."),
    "RECIPIENT_ACCOUNT_NUMBER_ERROR": (
        REFUSAL, "The bank account number is not valid for this bank."),
    "MINIMUM_TRANSFER_LIMIT_ERROR": (
        REFUSAL, "The amount is below the minimum this bank accepts through Xendit."),
    "MAXIMUM_TRANSFER_LIMIT_ERROR": (
        REFUSAL, "The amount is above the maximum this bank accepts through Xendit."),
    "AMOUNT_INCREMENT_NOT_SUPPORTED": (
        REFUSAL, "This bank does not accept this amount: it must be a round multiple."),
    "INSUFFICIENT_BALANCE": (REFUSAL, "The Xendit balance is too low for this payout."),
    "DUPLICATE_ERROR": (UNKNOWN, (
        "Xendit already has a payout sent with this link's key: Odoo looks it up and "
        "never pays it twice.")),
    "DUPLICATE_PAYOUT_ERROR": (UNKNOWN, (
        "Xendit already has a payout link with this link's reference: Odoo creates no "
        "other and waits for Xendit's word on it.")),
    # Create errors, legacy (docs.xendit.co/api-payouts-beta/payouts-errors).
    "INVALID_JSON_FORMAT": (REFUSAL, "Xendit could not read the request."),
    "CHANNEL_CODE_NOT_SUPPORTED_ERROR": (REFUSAL, "Xendit cannot pay to this bank."),
    "RECIPIENT_AMOUNT_ERROR": (REFUSAL, (
        "The amount is outside what this bank accepts (minimum, maximum or increment).")),
    "DUPLICATE_TRANSACTION_ERROR": (UNKNOWN, (
        "Xendit already has a payout sent with this link's key: Odoo looks it up and "
        "never pays it twice.")),
    # Any call.
    "REQUEST_FORBIDDEN_ERROR": (REFUSAL, (
        "The Xendit API key may not do this: it needs the Money-out write permission.")),
    "INVALID_API_KEY": (REFUSAL, "The Xendit API key is wrong or missing."),
    "SERVER_ERROR": (UNKNOWN, "Xendit had an internal error; the same request can be sent again."),
    # Xendit's 404 code is not published (X18): the sandbox's and xendit-go v1's names.
    "PAYOUT_NOT_FOUND": (UNKNOWN, "Xendit has no payout with this id."),
    "DATA_NOT_FOUND": (UNKNOWN, "Xendit has no payout with this id."),
    # Void and cancel refusals: Xendit's codes are not published (X8): the sandbox's names.
    "CANNOT_VOID_PAYOUT": (REFUSAL, (
        "The payout link can no longer be voided: the employee already claimed it, or it "
        "is finished.")),
    "CANNOT_CANCEL_PAYOUT": (
        REFUSAL, "The payout can no longer be cancelled: Xendit already sent it."),
    # Failure codes (/docs/payout-status-lifecycle, "Failed Reasons"; INSUFFICIENT_BALANCE
    # above is one too).
    "INVALID_DESTINATION": (
        FAILURE, "The destination bank account does not exist or cannot receive."),
    "DESTINATION_MAXIMUM_LIMIT": (
        FAILURE, ("The destination account cannot receive this much; ask the employee for "
        "another account.")),
    "ACCOUNT_NAME_MISMATCH": (
        FAILURE, "The account holder's name does not match the bank's records."),
    "REJECTED_BY_CHANNEL": (
        FAILURE, ("The employee's bank refused the transfer; check that the account is "
        "active, then reissue.")),
    "TEMPORARY_TRANSFER_ERROR": (
        FAILURE, "The bank network had a temporary error; reissue in 1 to 3 hours."),
    "TRANSFER_ERROR": (FAILURE, "Xendit could not process the transfer."),
    # The sandbox's reason of a link locked by wrong passwords (Xendit publishes none).
    "TOO_MANY_WRONG_PASSWORDS": (
        FAILURE, ("The employee entered a wrong secret password too many times; create a "
        "new link.")),
}
