"""Field names are case-insensitive and reported lower-case (RFC 9110 §5.1)."""

requests = [
    {
        "method": "POST",
        "target": "/case",
        "path": "/case",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("user-agent", "test/1.0"),
            ("content-length", "3"),
        ],
        "host": "example.com",
        "content_length": 3,
        "chunked": False,
        "body": b"abc",
        "keep_alive": True,
        "expect_continue": False,
    },
]
