"""Host with an IPv4 address (RFC 9110 §7.2, RFC 3986 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "192.0.2.1"),
        ],
        "host": "192.0.2.1",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
