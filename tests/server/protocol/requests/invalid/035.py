"""Chunk data longer than its size: no CRLF after the data (RFC 9112 §7.1)."""

status = 400
message = "chunk data not followed by CRLF"
