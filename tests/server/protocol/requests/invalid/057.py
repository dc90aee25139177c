"""Asterisk-form '*' with GET: only OPTIONS may use it (RFC 9112 §3.2.4)."""

status = 400
message = r"'\*' target is only allowed with OPTIONS"
