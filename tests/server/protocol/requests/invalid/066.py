"""Content-Length with 30 digits is over any limit (RFC 9110 §15.5.14, §8.6)."""

status = 413
message = "request body larger than"
