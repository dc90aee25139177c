"""HTTP/1.0 without Host and without keep-alive: not persistent (RFC 9112 §9.3, §3.2)."""

requests = [
    {
        "method": "GET",
        "target": "/legacy",
        "path": "/legacy",
        "query": "",
        "http_version": "1.0",
        "headers": [],
        "host": None,
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": False,
        "expect_continue": False,
    },
]
