"""Obsolete line folding in a field value (RFC 9112 §5.2)."""

status = 400
message = "obsolete line folding"
