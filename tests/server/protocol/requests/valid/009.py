"""Absolute-form https target with a body (RFC 9112 §3.2.2)."""

requests = [
    {
        "method": "POST",
        "target": "https://api.example.com/v1/items",
        "path": "/v1/items",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "api.example.com"),
            ("content-length", "2"),
        ],
        "host": "api.example.com",
        "content_length": 2,
        "chunked": False,
        "body": b"{}",
        "keep_alive": True,
        "expect_continue": False,
    },
]
