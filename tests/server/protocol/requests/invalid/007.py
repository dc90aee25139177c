"""HTTP/0.9 simple request line 'GET /' without a version (RFC 9112 §3, Appendix C.1)."""

status = 400
message = "without an HTTP version"
