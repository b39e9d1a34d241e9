# Odoo's own test runner loads the modules imported here (test_plain_pytest runs the plain
# pytest files, test_protocol_* and test_sandbox_*); bin/test (pytest) finds them all.
from . import test_payout_link_states
from . import test_payout_link_fields
from . import test_payout_mail
from . import test_payout_cron
from . import test_payout_employee
from . import test_payout_provider
from . import test_access
from . import test_claim_http
from . import test_claim_tour
from . import test_doku_provider
from . import test_xendit_provider
from . import test_payout_batch
from . import test_payout_approval
from . import test_payout_batch_concurrency
from . import test_batch_tour
from . import test_provider_concurrency
from . import test_migration
from . import test_payout_attention
from . import test_plain_pytest
from . import test_money_safety
from . import test_fault_matrix
from . import test_attack_workflow
from . import test_attack_claim
from . import test_public_routes_property
from . import test_attack_provider_settings
from . import test_attack_bank_data
