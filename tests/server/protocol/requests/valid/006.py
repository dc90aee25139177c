"""Absolute-form target: the target's authority replaces the Host field (RFC 9112 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "http://example.com/path/to?x=1&y=2",
        "path": "/path/to",
        "query": "x=1&y=2",
        "http_version": "1.1",
        "headers": [
            ("host", "proxy.internal"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
