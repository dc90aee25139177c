"""OPTIONS with the asterisk-form target (RFC 9112 §3.2.4)."""

requests = [
    {
        "method": "OPTIONS",
        "target": "*",
        "path": "",
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
