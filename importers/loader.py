"""The importer's entry points, kept where callers have always imported them from.

The load itself lives in `importers.load` (see its package text).
"""

from importers.load.engine import FieldRules, NativeRights, Planned, Provenance, fingerprint
from importers.load.run import DEFAULT_BATCH_SIZE, Loader, import_legacy, written_tables

__all__ = [
    "DEFAULT_BATCH_SIZE", "FieldRules", "Loader", "NativeRights", "Planned", "Provenance",
    "fingerprint", "import_legacy", "written_tables",
]
