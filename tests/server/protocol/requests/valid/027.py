"""A Content-Length trailer field is discarded, never used for framing (RFC 9112 §7.1.2, RFC 9110 §6.5.1)."""

requests = [
    {
        "method": "POST",
        "target": "/cl-trailer",
        "path": "/cl-trailer",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"hello",
        "keep_alive": True,
        "expect_continue": False,
    },
]
