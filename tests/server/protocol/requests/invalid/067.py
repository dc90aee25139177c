"""Unsupported expectation 'Expect: fancy' (RFC 9110 §10.1.1, §15.5.18)."""

status = 417
message = "unsupported expectation 'fancy'"
