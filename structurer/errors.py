"""The exceptions a caller of the library catches: one base, and the few kinds that differ in
what the caller does next. Every message is one line meant for the user."""
from __future__ import annotations


class StructurerError(Exception):
    """Base of every error the library raises on purpose."""


class InputRefused(StructurerError):
    """A source that cannot be read: missing, empty, corrupt, encrypted, scanned, wrong type."""


class NotADisclosure(InputRefused):
    """A readable file that is not a budget or final-accounts disclosure."""


class EndpointError(StructurerError):
    """The LLM endpoint failed, refused the key, or its answers could not be used."""
