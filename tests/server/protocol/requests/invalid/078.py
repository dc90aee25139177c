"""Empty Transfer-Encoding value: no final chunked coding (RFC 9112 §6.3, §6.1)."""

status = 400
message = "empty element in Transfer-Encoding|must end with 'chunked'"
