"""Origin-form target with a query: path and query split at the first '?' (RFC 9112 §3.2.1)."""

requests = [
    {
        "method": "GET",
        "target": "/search?q=sluice&lang=en",
        "path": "/search",
        "query": "q=sluice&lang=en",
        "http_version": "1.1",
        "headers": [
            ("host", "example.com"),
            ("accept", "*/*"),
        ],
        "host": "example.com",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
