"""ember.nn (modules come with the nn issue; functional is here)."""
from . import functional  # noqa: F401
