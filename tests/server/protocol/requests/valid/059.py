"""Absolute-form target on HTTP/1.0 without Host: host comes from the target (RFC 9112 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "http://example.com/x",
        "path": "/x",
        "query": "",
        "http_version": "1.0",
        "headers": [],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": False,
        "expect_continue": False,
    },
]
