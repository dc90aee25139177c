"""POST with a Content-Length body (RFC 9112 §6.2)."""

requests = [
    {
        "method": "POST",
        "target": "/submit",
        "path": "/submit",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-type", "text/plain"),
            ("content-length", "11"),
        ],
        "host": "example.com",
        "content_length": 11,
        "chunked": False,
        "body": b"hello world",
        "keep_alive": True,
        "expect_continue": False,
    },
]
