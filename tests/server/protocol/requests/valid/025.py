"""Chunk sizes in upper-case and mixed-case hex (RFC 9112 §7.1)."""

requests = [
    {
        "method": "POST",
        "target": "/hex",
        "path": "/hex",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"0123456789abcdefghijklmnopqrstuvwxyz01234ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "keep_alive": True,
        "expect_continue": False,
    },
]
