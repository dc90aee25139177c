"""OWS around a Transfer-Encoding value: 'Transfer-Encoding:  chunked ' (RFC 9112 §5.1, §6.1)."""

requests = [
    {
        "method": "POST",
        "target": "/te-ows",
        "path": "/te-ows",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"abc",
        "keep_alive": True,
        "expect_continue": False,
    },
]
