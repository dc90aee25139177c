"""A header section exactly max_header_bytes (64) bytes long is accepted (RFC 9112 §5, RFC 6585 §5)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("x-fill", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
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
    "max_header_bytes": 64,
}
