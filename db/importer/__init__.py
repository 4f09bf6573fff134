"""Account import from CSV or JSON: every bad row reported, all or nothing.

By stage: ``files`` (the columns; CSV and JSON records with their lines),
``rows`` (one record to typed, normalized fields), ``accounts`` (rows checked
against each other and the database, then written in one transaction).
Every public name is re-exported here.
"""

from db.importer.accounts import ImportReport, import_accounts, import_records
from db.importer.files import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BadRow,
    ImportFileError,
)
from db.importer.rows import MIN_PIN_LENGTH

__all__ = [
    "COLUMNS",
    "MIN_PIN_LENGTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BadRow",
    "ImportFileError",
    "ImportReport",
    "import_accounts",
    "import_records",
]
