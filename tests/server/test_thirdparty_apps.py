"""Unmodified third-party WSGI apps (Flask, Django, Pyramid) served by ``sluice serve``.

Every test starts a real server process on a loopback port and drives it over
HTTP with a ``requests.Session``, so consecutive requests share one keep-alive
connection; ``_assert_one_connection`` checks, by client port, that they did. The apps
live in ``tests/apps`` and use nothing but their framework's public API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.apps.flask_app import STREAM_CHUNKS
from tests.live import LiveServer

pytestmark = pytest.mark.live

StartServer = Callable[..., LiveServer]

DJANGO_ENV = {"DJANGO_SETTINGS_MODULE": "tests.apps.django_project.settings"}
DJANGO_TARGET = "tests.apps.django_project.wsgi:application"
SITE_CSS = Path(__file__).resolve().parent.parent / "apps" / "django_project" / "echo" / "static" / "site.css"
TIMEOUT = 10.0


# --------------------------------------------------------------------------- helpers


class TrackedSession(requests.Session):
    """A ``requests.Session`` that records the client TCP port each response arrived on.

    The port is read in a response hook, which runs before the body is read,
    while urllib3 still holds the connection. A server that closes after each
    response shows up as -1 (socket already closed) or as several ports.
    """

    def __init__(self) -> None:
        super().__init__()
        self.client_ports: list[int] = []
        self.hooks["response"].append(self._record_port)

    def _record_port(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        connection = response.raw.connection
        sock = getattr(connection, "sock", None)
        self.client_ports.append(sock.getsockname()[1] if sock is not None else -1)


def _assert_one_connection(session: TrackedSession) -> None:
    """All responses of ``session`` so far arrived on a single TCP connection."""
    assert len(session.client_ports) > 1
    # -1: http.client had already closed the socket, i.e. the response said the
    # connection would close (HTTP/1.0 or ``Connection: close``).
    assert -1 not in session.client_ports, f"a response closed its connection: {session.client_ports}"
    opened = len(set(session.client_ports))
    assert opened == 1, f"expected 1 keep-alive connection for {len(session.client_ports)} responses, saw {opened}"


def _assert_no_tracebacks(server: LiveServer) -> None:
    assert "Traceback" not in server.output, server.output


def _assert_fixed_length(response: requests.Response) -> None:
    assert "Transfer-Encoding" not in response.headers
    assert response.headers["Content-Length"] == str(len(response.content))


@pytest.fixture
def session() -> Iterator[TrackedSession]:
    with TrackedSession() as s:
        yield s


@pytest.fixture
def flask_server(live_server: StartServer) -> Iterator[LiveServer]:
    server = live_server("tests.apps.flask_app:app")
    yield server
    _assert_no_tracebacks(server)


@pytest.fixture
def django_server(live_server: StartServer) -> Iterator[LiveServer]:
    server = live_server(DJANGO_TARGET, env=DJANGO_ENV)
    yield server
    _assert_no_tracebacks(server)


@pytest.fixture
def pyramid_server(live_server: StartServer) -> Iterator[LiveServer]:
    server = live_server("tests.apps.pyramid_app:app")
    yield server
    _assert_no_tracebacks(server)


# --------------------------------------------------------------------------- Flask


def test_flask_get_text_returns_exact_body(flask_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{flask_server.url}/hello", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    _assert_fixed_length(response)
    assert response.content == b"Hello from Flask\n"


def test_flask_json_view_returns_json(flask_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{flask_server.url}/json", params={"name": "zoë & co"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    _assert_fixed_length(response)
    assert response.json() == {"framework": "flask", "name": "zoë & co", "numbers": [1, 2, 3]}


def test_flask_form_post_echoes_fields(flask_server: LiveServer, session: TrackedSession) -> None:
    data = [("name", "Ada Lovelace"), ("lang", "en"), ("lang", "fr"), ("note", "a=b&c d ✓")]
    response = session.post(f"{flask_server.url}/form", data=data, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    _assert_fixed_length(response)
    assert response.content == "lang=en\nlang=fr\nname=Ada Lovelace\nnote=a=b&c d ✓\n".encode()


def test_flask_multipart_post_echoes_fields(flask_server: LiveServer, session: TrackedSession) -> None:
    files = {"name": (None, "Grace"), "bio": (None, "line 1\r\nline 2")}
    response = session.post(f"{flask_server.url}/form", files=files, timeout=TIMEOUT)
    assert response.status_code == 200
    assert str(response.request.headers["Content-Type"]).startswith("multipart/form-data; boundary=")
    assert response.content == b"bio=line 1\r\nline 2\nname=Grace\n"


def test_flask_chunked_form_post_echoes_fields(flask_server: LiveServer, session: TrackedSession) -> None:
    def body() -> Iterator[bytes]:
        yield b"first=1&"
        yield b"second=two"

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = session.post(f"{flask_server.url}/form", data=body(), headers=headers, timeout=TIMEOUT)
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 200
    assert response.content == b"first=1\nsecond=two\n"


def test_flask_streamed_generator_is_chunked(flask_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{flask_server.url}/stream", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.content == "".join(STREAM_CHUNKS).encode()
    # The chunked body was terminated properly: the connection is reusable.
    follow_up = session.get(f"{flask_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Flask\n"
    _assert_one_connection(session)


def test_flask_streamed_generator_arrives_in_order(flask_server: LiveServer, session: TrackedSession) -> None:
    with session.get(f"{flask_server.url}/stream", stream=True, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        received = b"".join(response.iter_content(chunk_size=None))
    assert received.decode().splitlines(keepends=True) == list(STREAM_CHUNKS)


def test_flask_unknown_route_returns_default_404(flask_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{flask_server.url}/no/such/page", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    _assert_fixed_length(response)
    assert b"<title>404 Not Found</title>" in response.content
    follow_up = session.get(f"{flask_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.status_code == 200
    _assert_one_connection(session)


def test_flask_wrong_method_returns_405(flask_server: LiveServer, session: TrackedSession) -> None:
    response = session.put(f"{flask_server.url}/hello", data=b"ignored", timeout=TIMEOUT)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_flask_head_request_returns_headers_without_body(
    flask_server: LiveServer, session: TrackedSession
) -> None:
    response = session.head(f"{flask_server.url}/hello", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(b"Hello from Flask\n"))
    assert response.content == b""
    # Had the server sent a body after HEAD, this response would be garbled.
    follow_up = session.get(f"{flask_server.url}/json", timeout=TIMEOUT)
    assert follow_up.json()["framework"] == "flask"
    _assert_one_connection(session)


def test_flask_session_cookie_round_trips(flask_server: LiveServer, session: TrackedSession) -> None:
    before = session.get(f"{flask_server.url}/session/get", timeout=TIMEOUT)
    assert before.content == b"value=<none>\n"
    assert "Set-Cookie" not in before.headers

    stored = session.get(f"{flask_server.url}/session/set", params={"value": "blue sky"}, timeout=TIMEOUT)
    assert stored.status_code == 200
    assert stored.content == b"stored\n"
    set_cookie = stored.headers["Set-Cookie"]
    assert set_cookie.startswith("session=")
    assert "HttpOnly" in set_cookie
    assert "session" in session.cookies

    after = session.get(f"{flask_server.url}/session/get", timeout=TIMEOUT)
    assert after.content == b"value=blue sky\n"
    _assert_one_connection(session)


def test_flask_session_cookie_tampered_is_ignored(flask_server: LiveServer, session: TrackedSession) -> None:
    session.get(f"{flask_server.url}/session/set", params={"value": "secret"}, timeout=TIMEOUT)
    cookie = session.cookies.get("session")
    assert cookie is not None
    payload, _, signature = cookie.rpartition(".")
    forged = "A" * len(signature) if signature != "A" * len(signature) else "B" * len(signature)
    session.cookies.clear()
    session.cookies.set("session", f"{payload}.{forged}")
    response = session.get(f"{flask_server.url}/session/get", timeout=TIMEOUT)
    assert response.content == b"value=<none>\n"


def test_flask_many_requests_share_one_connection(flask_server: LiveServer, session: TrackedSession) -> None:
    for i in range(20):
        response = session.get(f"{flask_server.url}/json", params={"name": str(i)}, timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.json()["name"] == str(i)
        assert response.headers.get("Connection", "").lower() != "close"
    _assert_one_connection(session)


# --------------------------------------------------------------------------- Django


def _csrf_form(session: TrackedSession, server: LiveServer) -> str:
    """GET the form page; return the hidden ``csrfmiddlewaretoken`` (the cookie is in the session)."""
    response = session.get(f"{server.url}/form/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "csrftoken" in session.cookies
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


def test_django_get_view_returns_text(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/hello/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    _assert_fixed_length(response)
    assert response.content == b"Hello from Django\n"
    # Django's security middlewares ran.
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_django_json_view_returns_json(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/json/", params={"name": "zoë & co"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    _assert_fixed_length(response)
    assert response.json() == {"framework": "django", "name": "zoë & co", "numbers": [1, 2, 3]}


def test_django_path_without_slash_redirects(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/hello", allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 301
    assert response.headers["Location"] == "/hello/"
    followed = session.get(f"{django_server.url}/hello", timeout=TIMEOUT)
    assert followed.status_code == 200
    assert followed.url == f"{django_server.url}/hello/"
    assert followed.content == b"Hello from Django\n"


def test_django_form_post_with_csrf_token_echoes_message(
    django_server: LiveServer, session: TrackedSession
) -> None:
    token = _csrf_form(session, django_server)
    data = {"csrfmiddlewaretoken": token, "message": "héllo <world> & co"}
    response = session.post(f"{django_server.url}/form/", data=data, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    _assert_fixed_length(response)
    assert '<p id="echo">You said: héllo &lt;world&gt; &amp; co</p>' in response.text
    _assert_one_connection(session)


def test_django_form_post_with_csrf_header_echoes_message(
    django_server: LiveServer, session: TrackedSession
) -> None:
    _csrf_form(session, django_server)
    token = session.cookies.get("csrftoken")
    assert token is not None
    headers = {"X-CSRFToken": token}
    response = session.post(
        f"{django_server.url}/form/", data={"message": "via header"}, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert '<p id="echo">You said: via header</p>' in response.text


def test_django_form_post_without_csrf_token_returns_403(
    django_server: LiveServer, session: TrackedSession
) -> None:
    _csrf_form(session, django_server)  # the cookie alone is not enough
    response = session.post(f"{django_server.url}/form/", data={"message": "forged"}, timeout=TIMEOUT)
    assert response.status_code == 403
    assert "forged" not in response.text
    assert "CSRF" in response.text


def test_django_form_post_without_csrf_cookie_returns_403(
    django_server: LiveServer, session: TrackedSession
) -> None:
    data = {"csrfmiddlewaretoken": "x" * 64, "message": "forged"}
    response = session.post(f"{django_server.url}/form/", data=data, timeout=TIMEOUT)
    assert response.status_code == 403
    assert "forged" not in response.text


def test_django_form_post_with_wrong_token_returns_403(
    django_server: LiveServer, session: TrackedSession
) -> None:
    token = _csrf_form(session, django_server)
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    response = session.post(
        f"{django_server.url}/form/", data={"csrfmiddlewaretoken": wrong, "message": "forged"}, timeout=TIMEOUT
    )
    assert response.status_code == 403


def test_django_static_file_returns_css_bytes(django_server: LiveServer, session: TrackedSession) -> None:
    expected = SITE_CSS.read_bytes()
    response = session.get(f"{django_server.url}/static/site.css", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "text/css"
    assert response.headers["Content-Length"] == str(len(expected))
    assert "Transfer-Encoding" not in response.headers
    assert "Last-Modified" in response.headers
    assert response.content == expected
    follow_up = session.get(f"{django_server.url}/static/site.css", timeout=TIMEOUT)
    assert follow_up.content == expected
    _assert_one_connection(session)


def test_django_static_file_not_modified_returns_304(
    django_server: LiveServer, session: TrackedSession
) -> None:
    first = session.get(f"{django_server.url}/static/site.css", timeout=TIMEOUT)
    headers = {"If-Modified-Since": first.headers["Last-Modified"]}
    response = session.get(f"{django_server.url}/static/site.css", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 304
    assert response.content == b""
    follow_up = session.get(f"{django_server.url}/hello/", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Django\n"
    _assert_one_connection(session)


def test_django_static_file_head_returns_headers_without_body(
    django_server: LiveServer, session: TrackedSession
) -> None:
    expected = SITE_CSS.read_bytes()
    response = session.head(f"{django_server.url}/static/site.css", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(expected))
    assert response.content == b""
    follow_up = session.get(f"{django_server.url}/hello/", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Django\n"
    _assert_one_connection(session)


def test_django_missing_static_file_returns_404(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/static/missing.css", timeout=TIMEOUT)
    assert response.status_code == 404


def test_django_unknown_route_returns_404(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/no/such/page/", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Not Found" in response.content


def test_django_disallowed_host_returns_400(django_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{django_server.url}/hello/", headers={"Host": "evil.example"}, timeout=TIMEOUT)
    assert response.status_code == 400


def test_django_signed_cookie_session_counts_visits(
    django_server: LiveServer, session: TrackedSession
) -> None:
    bodies = [session.get(f"{django_server.url}/visits/", timeout=TIMEOUT).content for _ in range(3)]
    assert bodies == [b"visits=1\n", b"visits=2\n", b"visits=3\n"]
    assert "sessionid" in session.cookies
    _assert_one_connection(session)


# --------------------------------------------------------------------------- Pyramid


def test_pyramid_get_view_returns_text(pyramid_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{pyramid_server.url}/hello", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    _assert_fixed_length(response)
    assert response.content == b"Hello from Pyramid\n"


def test_pyramid_json_renderer_returns_json(pyramid_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{pyramid_server.url}/json", params={"name": "zoë & co"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    _assert_fixed_length(response)
    assert response.json() == {"framework": "pyramid", "name": "zoë & co", "numbers": [1, 2, 3]}


def test_pyramid_form_post_echoes_fields(pyramid_server: LiveServer, session: TrackedSession) -> None:
    data = {"name": "Ada Lovelace", "note": "a=b&c d ✓"}
    response = session.post(f"{pyramid_server.url}/echo", data=data, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    _assert_fixed_length(response)
    assert response.content == "name=Ada Lovelace\nnote=a=b&c d ✓\n".encode()
    follow_up = session.get(f"{pyramid_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Pyramid\n"
    _assert_one_connection(session)


def test_pyramid_large_post_body_is_read_whole(pyramid_server: LiveServer, session: TrackedSession) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    headers = {"Content-Type": "application/octet-stream"}
    response = session.post(f"{pyramid_server.url}/echo", data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == b"received 1048576 bytes\n"
    # The whole body was consumed: the next request on the connection parses cleanly.
    follow_up = session.get(f"{pyramid_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Pyramid\n"
    _assert_one_connection(session)


def test_pyramid_chunked_post_body_is_read_whole(pyramid_server: LiveServer, session: TrackedSession) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    headers = {"Content-Type": "application/octet-stream"}
    response = session.post(f"{pyramid_server.url}/echo", data=body(), headers=headers, timeout=TIMEOUT)
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 200
    assert response.content == b"received 10000 bytes\n"
    follow_up = session.get(f"{pyramid_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.content == b"Hello from Pyramid\n"
    _assert_one_connection(session)


def test_pyramid_unknown_route_returns_404(pyramid_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{pyramid_server.url}/no/such/page", timeout=TIMEOUT)
    assert response.status_code == 404
    assert b"404 Not Found" in response.content
    follow_up = session.get(f"{pyramid_server.url}/hello", timeout=TIMEOUT)
    assert follow_up.status_code == 200
    _assert_one_connection(session)


def test_pyramid_wrong_method_returns_404(pyramid_server: LiveServer, session: TrackedSession) -> None:
    response = session.get(f"{pyramid_server.url}/echo", timeout=TIMEOUT)
    assert response.status_code == 404


def test_pyramid_factory_target_serves_app(live_server: StartServer, session: TrackedSession) -> None:
    server = live_server("tests.apps.pyramid_app:main()")
    response = session.get(f"{server.url}/hello", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == b"Hello from Pyramid\n"
    _assert_no_tracebacks(server)
