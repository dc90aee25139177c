"""Percent-encoded path and query stay encoded; '//' is kept (RFC 9112 §3.2.1, RFC 3986 §2.1)."""

requests = [
    {
        "method": "GET",
        "target": "/a%20b//c/%2F?x=%26&y",
        "path": "/a%20b//c/%2F",
        "query": "x=%26&y",
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
