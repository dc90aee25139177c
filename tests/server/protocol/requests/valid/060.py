"""Empty list elements in Transfer-Encoding are ignored: 'chunked,' (RFC 9110 §5.6.1.2, RFC 9112 §6.1)."""

requests = [
    {
        "method": "POST",
        "target": "/list",
        "path": "/list",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", ",chunked,"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"ok",
        "keep_alive": True,
        "expect_continue": False,
    },
]
