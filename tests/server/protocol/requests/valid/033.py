"""Host with an IPv6 literal and a port (RFC 9110 §7.2, RFC 3986 §3.2.2)."""

requests = [
    {
        "method": "GET",
        "target": "/",
        "path": "/",
        "query": "",
        "http_version": "1.1",
        "headers": [
            ("host", "[2001:db8::1]:8443"),
        ],
        "host": "[2001:db8::1]:8443",
        "content_length": None,
        "chunked": False,
        "body": b"",
        "keep_alive": True,
        "expect_continue": False,
    },
]
