"""Input writers: candidate argument lists for harvested functions, and choosing executed cases."""

from .offline import OfflineInputWriter, OfflineWriterConfig
from .select import drop_reason, select_cases

__all__ = ["OfflineInputWriter", "OfflineWriterConfig", "drop_reason", "select_cases"]
