"""Unknown method token is parsed; the application decides (RFC 9110 §9.1)."""

requests = [
    {
        "method": "PURGE",
        "target": "/cache/item",
        "path": "/cache/item",
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
