"""CONNECT with an authority-form target; host comes from the target (RFC 9112 §3.2.3)."""

requests = [
    {
        "method": "CONNECT",
        "target": "example.com:443",
        "path": "",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com:443"),
        ],
        "host": "example.com:443",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
