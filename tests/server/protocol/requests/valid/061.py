"""Content-Length with leading zeros is a decimal length (RFC 9110 §8.6)."""

requests = [
    {
        "method": "POST",
        "target": "/lead",
        "path": "/lead",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "0003"),
        ],
        "host": "example.com",
        "content_length": 3,
        "chunked": False,
        "body": b"abc",
        "keep_alive": True,
        "expect_continue": False,
    },
]
