"""The accounts on file: reading account files, importing them, syncing them.

Where each rule lives: what a readable file is (columns, header, JSON shape,
hostile-file limits) ``file``; what one field's text may be ``fields``; the
per-line rules and how rows of one tenant agree ``rows``; the shortcuts that
keep 100,000 lines cheap without changing a result ``memo``; how rows map onto
columns for bulk writes ``writes``; import (all or nothing, never an update)
``importer``; sync (one transaction, removed means inactive) ``sync``, and its
comparison rules ``sync_plan``. Nothing here imports the desks.
"""
