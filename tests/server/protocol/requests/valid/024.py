"""Chunk extension with a quoted-string value holding ';', SP and quoted-pairs (RFC 9112 §7.1.1, RFC 9110 §5.6.4)."""

requests = [
    {
        "method": "POST",
        "target": "/quoted",
        "path": "/quoted",
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
