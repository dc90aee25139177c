"""Chunk size line with extensions longer than max_chunk_line (4096) (RFC 9112 §7.1.1)."""

status = 400
message = "chunk size line too long"
