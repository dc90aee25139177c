"""Transfer-Encoding 'gzip' alone: chunked is not the final coding (RFC 9112 §6.3)."""

status = 400
message = "must end with 'chunked'"
