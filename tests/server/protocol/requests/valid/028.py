"""OWS (SP and HTAB) around field values is removed (RFC 9112 §5.1, RFC 9110 §5.5)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("accept", "text/html"),
            ("x-tab", "value"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
