"""Chunk data that looks like a last chunk and a request is opaque (RFC 9112 §7.1)."""

requests = [
    {
        "method": "POST",
        "target": "/smuggle",
        "path": "/smuggle",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"0\r\n\r\nGET / HTTP/1.1\r\n",
        "keep_alive": True,
        "expect_continue": False,
    },
]
