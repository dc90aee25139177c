"""Lower-case method token is kept as sent: methods are case-sensitive tokens (RFC 9110 §9.1)."""

requests = [
    {
        "method": "get",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
