"""Request line longer than 8 KiB (RFC 9112 §3, RFC 9110 §15.5.15)."""

status = 414
message = "request line longer than 8192 bytes"
