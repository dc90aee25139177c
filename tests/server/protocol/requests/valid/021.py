"""Chunked body with two chunks and the last chunk (RFC 9112 §7.1)."""

requests = [
    {
        "method": "POST",
        "target": "/upload",
        "path": "/upload",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"hello world",
        "keep_alive": True,
        "expect_continue": False,
    },
]
