"""Decisions and notices leaving the desk (PRODUCT.md section 8, "Decisions leave the desk").

Where each rule lives: the outbox, its event types, the claim lease and the
retry rule ``outbox`` (the one writer of outbox rows); the admins' notices
and their text ``notices``; the worker that claims, sends and records
``worker`` (``callgate deliver``); the webhook's signature and POST
``webhook``; SMTP ``mail``; the SMS gateway ``sms``. Nothing here imports the
desks (import-linter holds it): the desks write the outbox, the worker reads it.
"""
