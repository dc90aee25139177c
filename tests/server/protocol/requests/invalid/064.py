"""Content-Length larger than max_body_size (10) (RFC 9110 §15.5.14)."""

status = 413
message = "request body larger than 10 bytes"
limits = {
    "max_body_size": 10,
}
