from . import claim
from . import portal
from . import xendit
