"""CONNECT authority-form target without a port (RFC 9112 §3.2.3: authority-form = uri-host ":" port)."""

status = 400
message = "invalid request target"
