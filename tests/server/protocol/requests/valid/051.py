"""Whitespace inside a field value is kept as sent (RFC 9110 §5.5)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("x-inner", "a \t b  c"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
