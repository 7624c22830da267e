"""Writers for contacts: the only code that changes contacts and identities.

Split by area; everything is importable from ``contacts.services``.
"""

from .contacts import (
    clean_custom_fields,
    contact_create,
    contact_set_do_not_text,
    contact_update,
    contacts_lock,
    identity_add,
    identity_remove,
)
from .csv_import import (
    ImportReport,
    contact_import_run,
    contact_import_start,
    contacts_import_csv,
    guess_mapping,
)
from .merge import contact_merge, contact_merge_undo, merge_default_choices
from .recognition import Recognition, contact_recognize

__all__ = [
    "ImportReport",
    "Recognition",
    "clean_custom_fields",
    "contact_create",
    "contact_import_run",
    "contact_import_start",
    "contact_merge",
    "contact_merge_undo",
    "contact_recognize",
    "contact_set_do_not_text",
    "contact_update",
    "contacts_import_csv",
    "contacts_lock",
    "guess_mapping",
    "identity_add",
    "identity_remove",
    "merge_default_choices",
]
