"""An empty line after the last request, then EOF, is a clean close (RFC 9112 §2.2, §9.6)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("connection", "close"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": False,
        "expect_continue": False,
    },
]
eof = True
