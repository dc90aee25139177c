"""Request and response wrappers: the objects a view reads from and returns.

The submodules do the work; this package re-exports their public names.
"""

from __future__ import annotations

from sluice.wrappers.datastructures import BadRequestKeyError as BadRequestKeyError
from sluice.wrappers.datastructures import FileStorage as FileStorage
from sluice.wrappers.datastructures import Headers as Headers
from sluice.wrappers.datastructures import ImmutableHeaders as ImmutableHeaders
from sluice.wrappers.datastructures import ImmutableList as ImmutableList
from sluice.wrappers.datastructures import MultiDict as MultiDict
from sluice.wrappers.http import LanguageAccept as LanguageAccept
from sluice.wrappers.http import MIMEAccept as MIMEAccept
from sluice.wrappers.request import Request as Request
from sluice.wrappers.response import Response as Response

__all__ = [
    # containers
    "BadRequestKeyError",
    "FileStorage",
    "Headers",
    "ImmutableHeaders",
    "ImmutableList",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    # wrappers
    "Request",
    "Response",
]
