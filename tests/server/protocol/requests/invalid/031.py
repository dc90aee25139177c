"""Transfer-Encoding 'chunked, chunked': chunked applied twice (RFC 9112 §6.1)."""

status = 400
message = "more than once"
