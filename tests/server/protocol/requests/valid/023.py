"""Chunk extensions with BWS: '5 ;ext=val', tabs and spaces around ';' and '=' (RFC 9112 §7.1.1)."""

requests = [
    {
        "method": "POST",
        "target": "/bws",
        "path": "/bws",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"hello world",
        "keep_alive": True,
        "expect_continue": False,
    },
]
