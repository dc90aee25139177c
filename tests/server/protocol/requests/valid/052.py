"""Two pipelined HTTP/1.0 keep-alive requests (RFC 9112 §9.3, §9.3.2)."""

requests = [
    {
        "method": "GET",
        "target": "/1",
        "path": "/1",
        "query": "",
        "http_version": "1.0",
        "headers": [
            ("connection", "keep-alive"),
        ],
        "host": None,
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
    {
        "method": "GET",
        "target": "/2",
        "path": "/2",
        "query": "",
        "http_version": "1.0",
        "headers": [
            ("connection", "Keep-Alive"),
        ],
        "host": None,
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
