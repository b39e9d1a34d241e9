from . import claim
from . import portal
