"""Transfer-Encoding 'gzip, chunked': an unsupported coding is 501 (RFC 9112 §6.1)."""

status = 501
message = "unsupported transfer coding 'gzip'"
