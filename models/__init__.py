from . import payout_provider
from . import payout_provider_doku
from . import payout_provider_xendit
from . import payout_link
from . import res_bank
from . import res_company
from . import hr_employee
