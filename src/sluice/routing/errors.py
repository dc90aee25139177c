"""Routing outcomes that are not plain 404/405: converter rejection and slash redirects."""

from __future__ import annotations

from sluice.errors import HTTPError


class ValidationError(ValueError):
    """A converter rejects a URL value: the rule does not match, try the next one.

    Raise it from ``to_python`` when the text matched the converter's regex
    but is not acceptable (out of bounds, unknown name); matching then goes on
    with the next rule. Raised from ``to_url``, it makes building fail with a
    :class:`~sluice.errors.BuildError`.
    """


class RequestRedirect(HTTPError):
    """308: the rule ends with a slash and the URL did not; redirect to it.

    The method and body are kept by the client (RFC 9110 §15.4.9). The
    caller appends the query string of the request to ``new_url``.

    Args:
        new_url: the path the client should request instead.
    """

    code = 308
    description = "The URL has moved permanently; follow the Location header."

    def __init__(self, new_url: str) -> None:
        super().__init__()
        self.new_url = new_url

    def get_headers(self) -> list[tuple[str, str]]:
        """Return ``Location`` with ``new_url``, plus any extra headers."""
        return [*self.headers, ("Location", self.new_url)]
