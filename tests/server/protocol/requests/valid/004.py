"""HEAD request without a body (RFC 9110 §9.3.2)."""

requests = [
    {
        "method": "HEAD",
        "target": "/index.html",
        "path": "/index.html",
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
