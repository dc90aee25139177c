"""obs-text (bytes 0x80-0xFF) in field values is kept, decoded as latin-1 (RFC 9110 §5.5)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("x-name", "caf\u00e9 cr\u00e8me"),
            ("x-utf8", "\u00e2\u009c\u0093"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
