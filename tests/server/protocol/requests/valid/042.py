"""Two pipelined GET requests in one read (RFC 9112 §9.3.2)."""

requests = [
    {
        "method": "GET",
        "target": "/one",
        "path": "/one",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
    {
        "method": "GET",
        "target": "/two",
        "path": "/two",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
