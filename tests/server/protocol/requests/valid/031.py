"""Empty field values, with and without whitespace (RFC 9110 §5.5)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("x-empty", ""),
            ("x-blank", ""),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
