"""Obsolete line folding in a trailer field (RFC 9112 §7.1.2, §5.2)."""

status = 400
message = "obsolete line folding"
