"""The audit chain (PRODUCT.md section 7): append, verify, checkpoints, tail.

Where each rule lives: appending and the chain's lock, ``head`` and
``verify_chain`` ``chain``; the link rule and the canonical hashed text
``scan`` (stdlib-only, so verify workers spawn light); the head kept outside
the database ``checkpoints``; the JSON-lines copy for a log collector
``tail``. This package imports nothing of the desks, so every writer can
use it; it keeps no import at package level, so ``scan`` loads alone.
"""
