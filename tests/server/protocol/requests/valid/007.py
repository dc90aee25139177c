"""Absolute-form target with a port and an empty path: path is '/' (RFC 9112 §3.2.2, §3.2.1)."""

requests = [
    {
        "method": "GET",
        "target": "http://example.com:8080",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com:8080"),
        ],
        "host": "example.com:8080",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
