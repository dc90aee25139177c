"""HTTP/1.0 with Connection: keep-alive is persistent (RFC 9112 §9.3, Appendix C.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.0",
        "headers": [
            ("host", "example.com"),
            ("connection", "keep-alive"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
