"""Collection rules for the fixture apps."""

from __future__ import annotations

# The notes app's own suite runs in a copy of the app, once on sluice and
# once rewritten for Flask (tests/test_notes_app.py), so that its instance
# folder and database are made in a temporary folder, not in the repository.
collect_ignore = ["notes_tests"]
