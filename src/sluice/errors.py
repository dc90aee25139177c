"""The exception tree of sluice: one root, then config, protocol and server errors.

Every error sluice raises on purpose derives from :class:`SluiceError`, so an
application can catch them as one family. ``HaltServer`` is a
``BaseException`` so that application code (``except Exception``) cannot
swallow a request to stop the server.
"""

from __future__ import annotations


class SluiceError(Exception):
    """Root of every error raised by sluice."""


class ConfigError(SluiceError):
    """A setting is unknown, malformed or contradicts another one."""


class AppImportError(SluiceError):
    """The application named on the command line could not be loaded."""


class ProtocolError(SluiceError):
    """An HTTP/1.1 framing or syntax rule was broken.

    Args:
        message: what was wrong, said so that the peer can fix it.
        status_hint: the HTTP status a server should answer with.
    """

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break HTTP/1.1; answer ``status_hint`` and close."""


class LocalProtocolError(ProtocolError):
    """This side (the application or the server) tried to send something invalid."""


class HaltServer(BaseException):
    """Stop the server with an exit code; not catchable by ``except Exception``.

    Args:
        reason: why the server stops, for the log.
        exit_code: the process exit status.
    """

    def __init__(self, reason: str, exit_code: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code
