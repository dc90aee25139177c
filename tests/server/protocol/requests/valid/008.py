"""Absolute-form target with an IPv6 literal authority (RFC 9112 §3.2.2, RFC 3986 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "http://[::1]:8080/p?q=1",
        "path": "/p",
        "query": "q=1",
        "http_version": "1.1",
        "headers": [
            ("host", "[::1]:8080"),
        ],
        "host": "[::1]:8080",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
