# Odoo's own test runner loads the modules imported here (test_plain_pytest runs the plain
# pytest files, test_protocol_* and test_sandbox_*); bin/test (pytest) finds them all.
# Each test module is named after the code file it tests (models/payout_link_claim.py:
# test_payout_link_claim_*.py), with an optional suffix for the aspect.
from . import test_payout_link
from . import test_payout_link_fields
from . import test_payout_link_layout
from . import test_payout_link_claim_mail
from . import test_payout_link_claim_tour
from . import test_payout_link_claim_display
from . import test_payout_link_claim_holder
from . import test_payout_link_claim_signin
from . import test_payout_link_claim_reminders
from . import test_payout_link_submission
from . import test_payout_link_submission_concurrency
from . import test_payout_link_submission_attention
from . import test_payout_link_submission_faults
from . import test_payout_link_submission_faults_concurrency
from . import test_payout_link_guards_hold
from . import test_payout_link_guards_hold_claim
from . import test_payout_link_guards_hold_new_links
from . import test_payout_link_guards_duplicates
from . import test_payout_link_guards_shared_accounts
from . import test_payout_link_guards_shared_accounts_concurrency
from . import test_payout_link_cron
from . import test_hr_employee
from . import test_payout_provider
from . import test_payout_provider_doku
from . import test_payout_provider_doku_snap
from . import test_payout_provider_xendit
from . import test_payout_provider_xendit_channels
from . import test_payout_batch
from . import test_payout_batch_concurrency
from . import test_payout_batch_tour
from . import test_payout_approval_mixin
from . import test_controllers_claim
from . import test_security_access
from . import test_security_workflow
from . import test_security_claim
from . import test_security_public_routes
from . import test_security_provider_settings
from . import test_security_bank_data
from . import test_migration
from . import test_encryption
from . import test_plain_pytest
