"""Transfer coding names are case-insensitive: 'TRANSFER-ENCODING: Chunked' (RFC 9112 §7, RFC 9110 §5.1)."""

requests = [
    {
        "method": "POST",
        "target": "/case-te",
        "path": "/case-te",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "Chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"body",
        "keep_alive": True,
        "expect_continue": False,
    },
]
