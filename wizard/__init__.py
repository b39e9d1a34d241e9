from . import payout_batch_wizard_line
from . import payout_batch_wizard
from . import payout_refuse_wizard
from . import payout_attention_wizard
