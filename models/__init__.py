from . import payout_encryption
from . import payout_workflow_mixin
from . import payout_approval_mixin
from . import payout_provider
from . import payout_provider_doku
from . import payout_provider_xendit
from . import payout_batch
# payout.link: the core, then the files implementing its hooks (each overrides a hook
# at most once, so their order changes nothing).
from . import payout_link
from . import payout_link_claim
from . import payout_link_submission
from . import payout_link_guards
from . import payout_link_cron
from . import res_bank
from . import res_company
from . import res_config_settings
from . import hr_employee
from . import res_partner
from . import res_partner_bank
from . import res_users
from . import mail_activity_type
