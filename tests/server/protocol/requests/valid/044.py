"""Chunk sizes with leading zeros, including the last chunk '000' (RFC 9112 §7.1)."""

requests = [
    {
        "method": "POST",
        "target": "/zeros",
        "path": "/zeros",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"hello",
        "keep_alive": True,
        "expect_continue": False,
    },
]
