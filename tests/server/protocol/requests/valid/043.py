"""Pipelined Content-Length POST, chunked POST and GET (RFC 9112 §9.3.2, §6.3)."""

requests = [
    {
        "method": "POST",
        "target": "/a",
        "path": "/a",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "3"),
        ],
        "host": "example.com",
        "content_length": 3,
        "chunked": False,
        "body": b"abc",
        "keep_alive": True,
        "expect_continue": False,
    },
    {
        "method": "POST",
        "target": "/b",
        "path": "/b",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"def",
        "keep_alive": True,
        "expect_continue": False,
    },
    {
        "method": "GET",
        "target": "/c",
        "path": "/c",
        "query": "",
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
