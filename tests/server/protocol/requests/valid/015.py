"""HTTP/1.0 POST without Host, with a Content-Length body (RFC 9112 §3.2, §6.2)."""

requests = [
    {
        "method": "POST",
        "target": "/form",
        "path": "/form",
        "query": "",
        "http_version": "1.0",
        "headers": [
            ("content-length", "7"),
        ],
        "host": None,
        "content_length": 7,
        "chunked": False,
        "body": b"a=1&b=2",
        "keep_alive": False,
        "expect_continue": False,
    },
]
