"""Authority-form target with GET: only CONNECT may use it (RFC 9112 §3.2.3)."""

status = 400
message = "invalid request target"
