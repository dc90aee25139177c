"""A valid request pipelined before one without Host: the second is refused (RFC 9112 §3.2, §9.3.2)."""

status = 400
message = "without a Host header"
