"""Expect: 100-continue with a Content-Length body (RFC 9110 §10.1.1)."""

requests = [
    {
        "method": "PUT",
        "target": "/file",
        "path": "/file",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "4"),
            ("expect", "100-continue"),
        ],
        "host": "example.com",
        "content_length": 4,
        "chunked": False,
        "body": b"data",
        "keep_alive": True,
        "expect_continue": True,
    },
]
