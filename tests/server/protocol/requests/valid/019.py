"""Content-Length as a list of identical values '5, 5' (RFC 9110 §8.6)."""

requests = [
    {
        "method": "POST",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "5, 5"),
        ],
        "host": "example.com",
        "content_length": 5,
        "chunked": False,
        "body": b"hello",
        "keep_alive": True,
        "expect_continue": False,
    },
]
