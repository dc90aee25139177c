"""Method and target made of every tchar / visible character class (RFC 9110 §5.6.2, RFC 3986 §3.3)."""

requests = [
    {
        "method": "M-._~!#$%&'*+^`|1",
        "target": "/p-._~!$&'()*+,;=:@%41/?q=/?:@!$&'()*+,;=",
        "path": "/p-._~!$&'()*+,;=:@%41/",
        "query": "q=/?:@!$&'()*+,;=",
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
