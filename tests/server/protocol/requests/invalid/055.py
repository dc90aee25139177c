"""Fragment in an absolute-form target (RFC 9112 §3.2.2)."""

status = 400
message = "invalid absolute-form target"
