"""Content-Length and Transfer-Encoding together (RFC 9112 §6.3, §6.1)."""

status = 400
message = "both Transfer-Encoding and Content-Length"
