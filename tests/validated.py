"""The App test set's one way in: a TestClient whose app is wrapped in ``wsgiref.validate``.

Design: every App test sends its requests through ``validator(app)``, so
each request also checks the app side of PEP 3333 (environ use, the
``start_response`` call, header and body types, ``close()``). The validator
reports through ``warnings`` and ``AssertionError``; with pytest's
``filterwarnings = ["error"]`` both fail the test.
"""

from __future__ import annotations

from wsgiref.types import WSGIApplication
from wsgiref.validate import validator

from sluice.testing import TestClient


def validated_client(app: WSGIApplication) -> TestClient:
    """Return a :class:`TestClient` for ``app`` wrapped in ``wsgiref.validate.validator``."""
    return TestClient(validator(app))
