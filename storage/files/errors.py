"""The files app's one error type: a message a person can act on, and an HTTP status."""

from __future__ import annotations


class FilesError(Exception):
    """A failure with a message a person can act on, and the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
