"""The addon's tables and settings, read as ``const.X`` by models, controllers and tests."""

import re

# === The link's state machine === #

# The allowed source states of each target state. Every state change goes through
# `payout.link._update_state`, which reads this table.
TRANSITIONS = {
    "to_approve": ("draft",),
    "draft": ("to_approve",),
    "sent": ("draft", "to_approve"),
    "opened": ("sent",),
    "processing": ("sent", "opened"),
    # cancelled: a payout its provider still paid after it was cancelled in Odoo
    "done": ("sent", "opened", "processing", "cancelled"),
    # draft, to_approve: a batch line that could not be sent; done: a payout reversed later
    "failed": ("draft", "to_approve", "sent", "opened", "processing", "done"),
    "expired": ("sent", "opened"),
    # processing: a claimed payout that its provider can still cancel (Xendit v2)
    "cancelled": ("draft", "to_approve", "sent", "opened", "processing"),
}
STATE_DATE_FIELDS = {
    "sent": "date_sent",
    "opened": "date_opened",
    "processing": "date_processing",
    "done": "date_done",
    "failed": "date_failed",
    "expired": "date_expired",
    "cancelled": "date_cancelled",
}
UNSENT_STATES = ("draft", "to_approve")  # not with the employee yet
CLAIMABLE_STATES = ("sent", "opened")
PENDING_STATES = ("sent", "opened", "processing")  # sent, and not paid nor closed yet
CLOSED_STATES = ("failed", "expired", "cancelled")
REISSUABLE_STATES = ("failed", "expired")
FINAL_STATES = ("done", *CLOSED_STATES)
CANCELLABLE_STATES = TRANSITIONS["cancelled"]
UNAVAILABLE_STATES = ("expired", "cancelled")  # the claim page does not show them
# The link's state as its employee sees it (the status page, /my/payouts).
EMPLOYEE_STATUSES = {"sent": "to_claim", "opened": "to_claim", "processing": "on_its_way",
                     "done": "paid"}

# === Field rules === #

# Fields that define what is paid to whom: frozen once the link leaves draft (or its
# batch does).
DRAFT_ONLY_FIELDS = {
    "reference", "employee_id", "amount", "currency_id", "description", "recipient_name",
    "recipient_email", "recipient_phone", "provider_id", "company_id", "batch_id",
}
# What a link pays and to whom: whoever changes one of these after the link was created
# cannot approve it (nor its batch).
PAYEE_FIELDS = frozenset({"amount", "currency_id", "employee_id", "recipient_name",
                          "recipient_email", "recipient_phone"})
# What makes a line the same payout as another one (the duplicate guard): a change of one
# of these clears the line's confirmation that it is not a duplicate.
DUPLICATE_FIELDS = PAYEE_FIELDS | {"payout_type"}
# The links that pay, or may still pay, their employee: the duplicate guard compares a new
# line with these (a cancelled link counts while its provider may still pay it).
DUPLICATE_PAID_STATES = ("sent", "opened", "processing", "done")
# The links the duplicate guard checks: those to send, and those to reissue.
DUPLICATE_CHECKED_STATES = (*UNSENT_STATES, *REISSUABLE_STATES)
# The fields a batch line takes from its batch.
BATCH_LINE_FIELDS = ("company_id", "currency_id", "provider_id", "payout_type", "user_id")
# 8 characters from 32 symbols without look-alikes (no 0/O, 1/I/L): easy to type.
SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 8
REFERENCE_RE = re.compile(r"[A-Za-z0-9]{1,30}")
# The reference a provider receives: a tag of the database and company, then the External
# ID, at most 30 characters (DOKU's reference_id and Xendit's external_id).
REFERENCE_TAG_LENGTH = 5
MAX_SUBMISSION_REFERENCE = 30
PHONE_RE = re.compile(r"62[0-9]{7,12}")  # ASCII only: \d takes any script
ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{6,20}")
# The claim token as `secrets.token_urlsafe(32)` makes it: anything else is not a token,
# and is answered with the neutral 404 page before it reaches the database.
CLAIM_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# A record id in a form or URL: ASCII digits, within PostgreSQL's integer.
MAX_RECORD_ID = 2**31 - 1
# The strictest provider's limits (DOKU's), so that a link fits every provider.
MAX_DESCRIPTION = 30
MAX_NAME = 50
MAX_EMAIL = 50
# A link lives at most a quarter (timedelta overflows past 999,999,999 days), and its
# secret allows at most a few wrong tries before the link locks (payout.provider's
# settings; a company's first reminder comes at most this many days before expiry).
MAX_LINK_VALIDITY_DAYS = 90
MAX_SECRET_ATTEMPTS = 10
# The most calls to a provider a scheduled run may make at once (payout.provider's
# Concurrent Calls).
MAX_CONCURRENT_CALLS = 16

# === Holds (models/payout_link_guards.py) === #

# Why a link is held: its label, and the event that releases it (the messages that name
# each reason are the guards' `_get_hold_texts`). A change of payout identity holds
# nothing: money follows the checked identity (models/hr_employee.py).
HOLD_REASONS = {
    "employee_archived": {"label": "Employee archived", "released_by": "unarchive"},
}

# === Scheduled actions === #

# Links per cron batch, the default of each cron's `batch_size` (data/ir_cron_data.xml):
# amortises the per-batch SQL (lock, count, commit), small enough that a batch commits
# every few seconds even against a slow provider.
BATCH_SIZE = 1000
# Never two emails about one link within this many hours: no reminder this soon after the
# claim email or after another reminder (models/payout_link_claim.py spaces them).
REMINDER_GAP_HOURS = 24
# The most reminders a company may send per link: more would read as spam.
MAX_REMINDERS = 5
# Seconds of provider calls in one scheduled run: half of Odoo's default limit_time_real
# (120 s), so a run ends, and commits, before a worker is killed. A run makes no more calls
# than a provider's rate limit allows in that time; calls that would start later wait for
# the next run.
CALL_TIME_BUDGET = 60
# A run commits the answers it stored once this many seconds have passed since its last
# commit: a worker killed mid-run loses at most these seconds of answers (its links are
# looked up again, never sent again). By time, not by count: a commit clears the ORM's
# cache, and committing every 20 answers made polling a fast provider 30% slower.
COMMIT_EVERY_SECONDS = 5
# A link is asked for its status at most once per this many minutes: less than the
# polling cron's 15, so that every link is due again at each run.
POLL_EVERY_MINUTES = 10
# A submission without a clear answer is looked up again after this many minutes, so an
# outage of the provider does not make the cron call it in a loop.
RETRY_SUBMISSION_MINUTES = 1
# A link whose outcome stays unknown after this many unclear provider answers in a row,
# or for this long, needs attention: a Payout Manager checks at the provider. With the
# payment cron every 5 minutes, 10 answers is about an hour of a provider's outage.
MAX_UNCLEAR_CALLS = 10
ATTENTION_AFTER_HOURS = 24
# Namespace of the advisory locks that hold links being submitted (see
# models/payout_link_submission.py).
SUBMISSION_LOCK_SPACE = 0x5041594F  # "PAYO"
# Namespace of the advisory locks that serialise claims of one bank account (see
# models/payout_link_guards.py).
SHARED_ACCOUNT_LOCK_SPACE = 0x50414343  # "PACC"

# === Mail === #

# What the claim email takes from its template: no layout nor attachments in an email
# that carries a secret, and no recipient (cc, partners, reply-to): the code addresses it
# to the employee alone.
CLAIM_EMAIL_FIELDS = ("body_html", "email_from", "mail_server_id", "scheduled_date",
                      "subject")
# A template body that does nothing but call a QWeb view: rendered as that view, compiled
# once for a whole batch instead of once per email.
VIEW_CALL_RE = re.compile(r'\s*<t\s+t-call="([\w.]+)"\s*(?:/>|>\s*</t>)\s*')

# === Messages === #

# Links named in one error message at most: a 10,000-line batch must stay readable.
MAX_LINES_IN_ERROR = 20
