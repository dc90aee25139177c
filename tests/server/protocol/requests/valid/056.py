"""Bodies of exactly max_body_size (5) bytes, by length and chunked, are accepted (RFC 9110 §15.5.14)."""

requests = [
    {
        "method": "POST",
        "target": "/cl",
        "path": "/cl",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("content-length", "5"),
        ],
        "host": "example.com",
        "content_length": 5,
        "chunked": False,
        "body": b"hello",
        "keep_alive": True,
        "expect_continue": False,
    },
    {
        "method": "POST",
        "target": "/te",
        "path": "/te",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("transfer-encoding", "chunked"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": True,
        "body": b"hello",
        "keep_alive": True,
        "expect_continue": False,
    },
]
limits = {
    "max_body_size": 5,
}
