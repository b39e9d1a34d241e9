from . import payout_workflow_mixin
from . import payout_approval_mixin
from . import payout_provider
from . import payout_provider_doku
from . import payout_provider_xendit
from . import payout_batch
# payout.link: the core first, then its concerns, each extending the model.
from . import payout_link
from . import payout_link_rules
from . import payout_link_reissue
from . import payout_link_claim
from . import payout_link_submission
from . import payout_link_attention
from . import payout_link_cron
from . import res_bank
from . import res_company
from . import res_config_settings
from . import hr_employee
