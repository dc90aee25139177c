"""Expect: 100-continue in an HTTP/1.0 request is ignored (RFC 9110 §10.1.1)."""

requests = [
    {
        "method": "POST",
        "target": "/old",
        "path": "/old",
        "query": "",
        "http_version": "1.0",
        "headers": [
            ("content-length", "2"),
            ("expect", "100-continue"),
        ],
        "host": None,
        "content_length": 2,
        "chunked": False,
        "body": b"hi",
        "keep_alive": False,
        "expect_continue": False,
    },
]
