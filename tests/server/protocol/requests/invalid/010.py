"""HTTP/3.0 in a request line (RFC 9112 §2.3, RFC 9110 §15.6.6)."""

status = 505
message = r"HTTP/3\.0 is not supported"
