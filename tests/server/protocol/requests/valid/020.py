"""Content-Length: 0 means an empty body, complete with the head (RFC 9112 §6.2, §6.3)."""

requests = [
    {
        "method": "POST",
        "target": "/empty",
        "path": "/empty",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "0"),
        ],
        "host": "example.com",
        "content_length": 0,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
