"""Transfer-Encoding in two fields, 'gzip' then 'chunked', is 'gzip, chunked' (RFC 9112 §6.1, RFC 9110 §5.3)."""

status = 501
message = "unsupported transfer coding 'gzip'"
