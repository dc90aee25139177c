"""Make a client-supplied filename safe to use as a file name on the server: ``secure_filename``.

Design: an upload's ``filename`` is whatever the client sent; used as a
path it could climb out of the upload folder (``../../etc/passwd``), hide
(``.htaccess``), or name a Windows device (``CON``). ``secure_filename``
keeps the Werkzeug results for the usual cases, with two deliberate
differences, so that a name is safe on every platform the file may later
reach: a backslash is a path separator everywhere (Werkzeug: only on
Windows), and Windows device names are prefixed on every platform
(Werkzeug: only on Windows).
"""

from __future__ import annotations

import re
import unicodedata

_NOT_ALLOWED_RE = re.compile(r"[^A-Za-z0-9_.-]")
# Names Windows reserves in every folder, with any extension (CON.txt too).
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{digit}" for digit in "0123456789"), *(f"LPT{digit}" for digit in "0123456789")}
)


def secure_filename(filename: str) -> str:
    """Return an ASCII-only version of ``filename`` that is safe as a single file name.

    Letters are reduced to ASCII (``ü`` becomes ``u``, characters without an
    ASCII form are dropped), ``/`` and ``\\`` become separators like
    whitespace, every run of separators becomes one ``_``, anything but
    letters, digits, ``_``, ``.`` and ``-`` is removed, leading and trailing
    dots and underscores are stripped (no hidden files, no ``..``), and a
    Windows device name (``CON``, ``NUL``, ``COM1``, ``LPT1``...) gets a
    leading ``_``.

    The result may be empty (``secure_filename("../..") == ""``): check for
    that and pick a name of your own. Two different inputs may give the same
    result, so do not rely on it being unique.

    Args:
        filename: the name as the client sent it (``FileStorage.filename``).

    Returns:
        The safe name, possibly empty.
    """
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = ascii_name.replace("/", " ").replace("\\", " ")
    ascii_name = "_".join(ascii_name.split())
    ascii_name = _NOT_ALLOWED_RE.sub("", ascii_name).strip("._")
    if ascii_name.partition(".")[0].upper() in _WINDOWS_DEVICES:
        ascii_name = "_" + ascii_name
    return ascii_name
