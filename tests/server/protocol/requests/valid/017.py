"""Three empty lines before the request line are ignored (RFC 9112 §2.2)."""

requests = [
    {
        "method": "GET",
        "target": "/three",
        "path": "/three",
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
