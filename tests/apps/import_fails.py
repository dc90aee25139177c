"""A module whose import raises, for the CLI's app-loading error path."""

raise RuntimeError("this module fails at import time")
