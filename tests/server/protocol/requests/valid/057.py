"""HTTP/1.0 request, then the client closes: the request, then ConnectionClosed (RFC 9112 §9.6)."""

requests = [
    {
        "method": "GET",
        "target": "/bye",
        "path": "/bye",
        "query": "",
        "http_version": "1.0",
        "headers": [],
        "host": None,
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": False,
        "expect_continue": False,
    },
]
eof = True
