"""Chunk data followed directly by the next chunk size, CRLF missing (RFC 9112 §7.1)."""

status = 400
message = "chunk data not followed by CRLF"
