"""Trailer fields after the last chunk are read and discarded (RFC 9112 §7.1.2)."""

requests = [
    {
        "method": "POST",
        "target": "/trailers",
        "path": "/trailers",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
            ("trailer", "Expires, X-Checksum"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"trailer",
        "keep_alive": True,
        "expect_continue": False,
    },
]
