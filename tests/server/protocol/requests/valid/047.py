"""An empty Host field value is syntactically valid (RFC 9112 §3.2, RFC 3986 §3.2.2 reg-name)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", ""),
        ],
        "host": "",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
