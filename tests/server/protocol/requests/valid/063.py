"""Absolute-form target whose host has an underscore, a reg-name character (RFC 9112 §3.2.2, RFC 3986 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "http://my_service:8000/health",
        "path": "/health",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "my_service:8000"),
        ],
        "host": "my_service:8000",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
