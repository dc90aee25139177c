"""The HTTP/2 connection preface 'PRI * HTTP/2.0' (RFC 9113 §3.4, RFC 9110 §15.6.6)."""

status = 505
message = r"HTTP/2\.0 is not supported"
