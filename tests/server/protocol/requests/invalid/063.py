"""101 header fields, one more than the limit (RFC 6585 §5)."""

status = 431
message = "more than 100 header fields"
