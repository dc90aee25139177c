"""Whitespace-preceded line between the request line and the first field (RFC 9112 §2.2)."""

status = 400
message = "obsolete line folding"
