"""Sans-IO HTTP/1.1 for servers: bytes in, events out; responses in, bytes out.

Nothing in this package touches a socket, a thread, a clock or the
operating system, so every rule can be tested by feeding bytes.
"""

from __future__ import annotations

from sluice.server.protocol.connection import Connection as Connection
from sluice.server.protocol.connection import Limits as Limits
from sluice.server.protocol.events import NEED_DATA as NEED_DATA
from sluice.server.protocol.events import PAUSED as PAUSED
from sluice.server.protocol.events import ConnectionClosed as ConnectionClosed
from sluice.server.protocol.events import Data as Data
from sluice.server.protocol.events import EndOfMessage as EndOfMessage
from sluice.server.protocol.events import Request as Request

__all__ = [
    "Connection",
    "Limits",
    "NEED_DATA",
    "PAUSED",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Request",
]
