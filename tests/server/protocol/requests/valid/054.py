"""A request line exactly max_request_line (64) bytes long is accepted (RFC 9112 §3)."""

requests = [
    {
        "method": "GET",
        "target": "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "path": "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
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
limits = {
    "max_request_line": 64,
}
