"""The Expect value is case-insensitive: '100-Continue' (RFC 9110 §10.1.1)."""

requests = [
    {
        "method": "POST",
        "target": "/up",
        "path": "/up",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("expect", "100-Continue"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"ok",
        "keep_alive": True,
        "expect_continue": True,
    },
]
