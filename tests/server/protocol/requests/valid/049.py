"""A Content-Length body is opaque: CRLFs, NUL and 0xFF bytes (RFC 9112 §6.2)."""

requests = [
    {
        "method": "POST",
        "target": "/bin",
        "path": "/bin",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "8"),
        ],
        "host": "example.com",
        "content_length": 8,
        "chunked": False,
        "body": b"\r\n\r\n\x00\xff\r\n",
        "keep_alive": True,
        "expect_continue": False,
    },
]
