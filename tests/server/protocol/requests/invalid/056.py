"""Userinfo in an absolute-form target (RFC 9110 §4.2.4)."""

status = 400
message = "invalid absolute-form target"
