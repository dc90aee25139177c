"""Header section larger than 64 KiB (RFC 6585 §5, RFC 9112 §5)."""

status = 431
message = "header section larger than 65536 bytes"
