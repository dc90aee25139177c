"""Fragment '#frag' in an origin-form target (RFC 9112 §3.2.1)."""

status = 400
message = "fragment"
