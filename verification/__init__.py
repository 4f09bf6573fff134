"""The domain: identity items, matching, the verification session and the
cancellation policy. Pure: no Textual, no SQLAlchemy (see docs/ARCHITECTURE.md)."""
