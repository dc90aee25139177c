"""Chunked body of one-byte chunks (RFC 9112 §7.1)."""

requests = [
    {
        "method": "POST",
        "target": "/tiny",
        "path": "/tiny",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"sluice",
        "keep_alive": True,
        "expect_continue": False,
    },
]
