"""Connection options from several fields, case-insensitive: 'Close' wins over keep-alive (RFC 9112 §9.6, RFC 9110 §7.6.1)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("connection", "keep-alive"),
            ("connection", "Upgrade, Close"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": False,
        "expect_continue": False,
    },
]
