"""HTTP/2.0 on an HTTP/1.1 connection (RFC 9112 §2.3, RFC 9110 §15.6.6)."""

status = 505
message = r"HTTP/2\.0 is not supported"
