"""Tests of sluice.files over the test client: send_file, send_from_directory, conditional and range requests, static files."""

from __future__ import annotations

import io
import os
import re
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper

import pytest

from sluice import App
from sluice import Response
from sluice import send_file
from sluice import send_from_directory
from sluice import url_for
from sluice.files import file_version
from sluice.files import make_static_view
from sluice.files import parse_ranges
from sluice.files import safe_join
from sluice.testing import TestClient

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "data.bin").write_bytes(DATA)
    (static / "style.css").write_text("body{color:red}")
    (static / "sub" / "page.html").write_text("<p>hi</p>")
    (static / "empty.txt").write_bytes(b"")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (static / "link_out.txt").symlink_to(tmp_path / "secret.txt")
    (static / "linkdir").symlink_to(tmp_path)
    (static / "link_in.txt").symlink_to(static / "style.css")
    return tmp_path


@pytest.fixture
def app(root: Path) -> App:
    app = App(__name__, static_folder=None, root_path=str(root))
    app.add_url_rule("/static/<path:filename>", "static", make_static_view(lambda: "static"))

    @app.get("/dl/<path:name>")
    def dl(name: str) -> Response:
        return send_from_directory("static", name)

    @app.get("/file")
    def file() -> Response:
        return send_file("static/data.bin")

    return app


@pytest.fixture
def client(app: App) -> TestClient:
    return app.test_client()


def _etag(client: TestClient, path: str = "/file") -> str:
    tag = client.get(path).header("ETag")
    assert tag is not None
    return tag


# -- send_file basics --------------------------------------------------------------


def test_send_file_whole_file_headers(client: TestClient) -> None:
    response = client.get("/file")
    assert response.status == "200 OK"
    assert response.data == DATA
    assert response.header("Content-Length") == str(len(DATA))
    assert response.header("Content-Type") == "application/octet-stream"
    assert response.header("Accept-Ranges") == "bytes"
    assert response.header("Cache-Control") == "no-cache"
    assert response.header("Content-Disposition") == "inline; filename=data.bin"
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"', response.header("ETag") or "")
    assert (response.header("Last-Modified") or "").endswith("GMT")


def test_send_file_guesses_text_type_with_charset(client: TestClient) -> None:
    assert client.get("/static/style.css").header("Content-Type") == "text/css; charset=utf-8"


def test_send_file_head_sends_headers_only(client: TestClient) -> None:
    response = client.head("/file")
    assert response.status_code == 200
    assert response.data == b""
    assert response.header("Content-Length") == str(len(DATA))


def _app_with(root: Path, view: Any, **config: Any) -> TestClient:
    app = App(__name__, static_folder=None, root_path=str(root))
    app.config.update(config)
    app.add_url_rule("/", "v", view)
    return app.test_client()


def test_send_file_object_needs_mimetype_or_name(root: Path) -> None:
    def view() -> Response:
        return send_file(io.BytesIO(b"abc"))

    app = App(__name__, static_folder=None, root_path=str(root))
    app.add_url_rule("/", "v", view)
    with app.test_request_context("/"), pytest.raises(TypeError, match="pass mimetype= or download_name="):
        view()


def test_send_file_object_with_download_name(root: Path) -> None:
    client = _app_with(root, lambda: send_file(io.BytesIO(b"abcdef"), download_name="x.txt"))
    response = client.get("/", headers={"Range": "bytes=1-2"})
    assert (response.status_code, response.data) == (206, b"bc")
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
    assert response.header("ETag") is None


def test_send_file_text_mode_file_refused(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    with app.test_request_context("/"), pytest.raises(ValueError, match="binary mode"):
        send_file(io.StringIO("x"), mimetype="text/plain")  # type: ignore[arg-type]


def test_send_file_attachment_without_name_refused(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    with app.test_request_context("/"), pytest.raises(TypeError, match="needs a file name"):
        send_file(io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("report.pdf", "attachment; filename=report.pdf", id="token"),
        pytest.param("my report.pdf", 'attachment; filename="my report.pdf"', id="quoted"),
        pytest.param('a"b.txt', 'attachment; filename="a\\"b.txt"', id="escaped-quote"),
        pytest.param(
            "résumé 2026.pdf",
            "attachment; filename=\"resume 2026.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf",
            id="rfc5987",
        ),
    ],
)
def test_send_file_content_disposition(root: Path, name: str, expected: str) -> None:
    client = _app_with(root, lambda: send_file("static/data.bin", as_attachment=True, download_name=name))
    assert client.get("/").header("Content-Disposition") == expected


def test_send_file_etag_string_and_off(root: Path) -> None:
    assert _app_with(root, lambda: send_file("static/data.bin", etag="v1")).get("/").header("ETag") == '"v1"'
    assert _app_with(root, lambda: send_file("static/data.bin", etag=False)).get("/").header("ETag") is None


def test_send_file_max_age_int_callable_and_config(root: Path) -> None:
    response = _app_with(root, lambda: send_file("static/data.bin", max_age=60)).get("/")
    assert response.header("Cache-Control") == "public, max-age=60"
    assert (response.header("Expires") or "").endswith("GMT")
    seen: list[Any] = []

    def age(path: str | None) -> int:
        seen.append(path)
        return 5

    assert _app_with(root, lambda: send_file("static/data.bin", max_age=age)).get("/").header("Cache-Control") == "public, max-age=5"
    assert seen == [str(root / "static" / "data.bin")]
    client = _app_with(root, lambda: send_file("static/data.bin"), SEND_FILE_MAX_AGE_DEFAULT=120)
    assert client.get("/").header("Cache-Control") == "public, max-age=120"


def test_send_file_last_modified_argument(root: Path) -> None:
    client = _app_with(root, lambda: send_file("static/data.bin", last_modified=784111777))
    assert client.get("/").header("Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_send_file_gz_name_gets_content_encoding_inline_only(root: Path) -> None:
    (root / "a.tar.gz").write_bytes(b"x")
    assert _app_with(root, lambda: send_file("a.tar.gz")).get("/").header("Content-Encoding") == "gzip"
    assert _app_with(root, lambda: send_file("a.tar.gz", as_attachment=True)).get("/").header("Content-Encoding") is None


# -- conditional requests ------------------------------------------------------------


def test_if_none_match_gives_304_without_body(client: TestClient) -> None:
    tag = _etag(client)
    response = client.get("/file", headers={"If-None-Match": tag})
    assert response.status == "304 NOT MODIFIED"
    assert response.data == b""
    assert response.header("ETag") == tag
    assert response.header("Cache-Control") == "no-cache"
    for name in ("Content-Length", "Content-Type", "Content-Disposition", "Accept-Ranges", "Last-Modified"):
        assert response.header(name) is None, name


@pytest.mark.parametrize(
    ("value", "status"),
    [
        pytest.param("*", 304, id="star"),
        pytest.param('"other", {tag}', 304, id="list"),
        pytest.param("W/{tag}", 304, id="weak-comparison"),
        pytest.param('"other"', 200, id="no-match"),
    ],
)
def test_if_none_match_values(client: TestClient, value: str, status: int) -> None:
    tag = _etag(client)
    assert client.get("/file", headers={"If-None-Match": value.format(tag=tag)}).status_code == status


def test_if_none_match_on_post_is_412(app: App, client: TestClient) -> None:
    app.add_url_rule("/post", "post", lambda: send_file("static/data.bin"), methods=["POST"])
    assert client.post("/post", headers={"If-None-Match": "*"}).status_code == 412


def test_if_modified_since(client: TestClient, root: Path) -> None:
    mtime = int(os.stat(root / "static" / "data.bin").st_mtime)
    assert client.get("/file", headers={"If-Modified-Since": formatdate(mtime, usegmt=True)}).status_code == 304
    assert client.get("/file", headers={"If-Modified-Since": formatdate(mtime - 10, usegmt=True)}).status_code == 200
    assert client.get("/file", headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_if_modified_since_ignored_with_if_none_match(client: TestClient) -> None:
    headers = {"If-None-Match": '"other"', "If-Modified-Since": formatdate(time.time() + 3600, usegmt=True)}
    assert client.get("/file", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("value", "status"),
    [
        pytest.param("{tag}", 200, id="strong-match"),
        pytest.param("*", 200, id="star"),
        pytest.param('"other"', 412, id="no-match"),
        pytest.param("W/{tag}", 412, id="weak-never-matches"),
    ],
)
def test_if_match(client: TestClient, value: str, status: int) -> None:
    tag = _etag(client)
    response = client.get("/file", headers={"If-Match": value.format(tag=tag)})
    assert response.status_code == status
    if status == 412:
        assert b"fetch it again" in response.data


def test_if_unmodified_since(client: TestClient, root: Path) -> None:
    mtime = int(os.stat(root / "static" / "data.bin").st_mtime)
    assert client.get("/file", headers={"If-Unmodified-Since": formatdate(mtime - 100, usegmt=True)}).status_code == 412
    assert client.get("/file", headers={"If-Unmodified-Since": formatdate(mtime, usegmt=True)}).status_code == 200


def test_precedence_if_match_before_if_none_match(client: TestClient) -> None:
    # RFC 9110 §13.2.2: a failed If-Match answers 412 even if If-None-Match would give 304.
    tag = _etag(client)
    assert client.get("/file", headers={"If-Match": '"other"', "If-None-Match": tag}).status_code == 412


def test_precedence_if_match_wins_over_if_unmodified_since(client: TestClient) -> None:
    tag = _etag(client)
    headers = {"If-Match": tag, "If-Unmodified-Since": formatdate(0, usegmt=True)}
    assert client.get("/file", headers=headers).status_code == 200


# -- ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        pytest.param("bytes=0-99", 0, 100, id="single"),
        pytest.param("bytes=10240-", None, None, id="open-past-end"),
        pytest.param("bytes=10000-", 10000, 10240, id="open"),
        pytest.param("bytes=-100", 10140, 10240, id="suffix"),
        pytest.param("bytes=-999999", 0, 10240, id="suffix-larger-than-file"),
        pytest.param("bytes=100-999999", 100, 10240, id="last-clamped"),
        pytest.param("BYTES = 5-5", 5, 6, id="case-and-spaces"),
    ],
)
def test_single_range(client: TestClient, header: str, start: int | None, stop: int | None) -> None:
    response = client.get("/file", headers={"Range": header})
    if start is None or stop is None:
        assert response.status_code == 416
        assert response.header("Content-Range") == "bytes */10240"
        return
    if (start, stop) == (0, 10240):
        assert response.status_code == 200
        assert response.data == DATA
        return
    assert response.status == "206 PARTIAL CONTENT"
    assert response.data == DATA[start:stop]
    assert response.header("Content-Range") == f"bytes {start}-{stop - 1}/10240"
    assert response.header("Content-Length") == str(stop - start)


def test_multiple_ranges_multipart(client: TestClient) -> None:
    response = client.get("/file", headers={"Range": "bytes=0-9, 100-109"})
    assert response.status_code == 206
    content_type = response.header("Content-Type") or ""
    boundary = content_type.partition("boundary=")[2]
    assert content_type.startswith("multipart/byteranges; boundary=") and boundary
    expected = (
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/10240\r\n\r\n".encode()
        + DATA[0:10]
        + f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 100-109/10240\r\n\r\n".encode()
        + DATA[100:110]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert response.data == expected
    assert response.header("Content-Length") == str(len(expected))


@pytest.mark.parametrize(
    ("header", "content_range"),
    [
        pytest.param("bytes=0-99,50-149", "bytes 0-149/10240", id="overlapping"),
        pytest.param("bytes=0-99,100-199", "bytes 0-199/10240", id="adjacent"),
        pytest.param("bytes=100-199,0-99", "bytes 0-199/10240", id="out-of-order"),
        pytest.param("bytes=0-9,99999-", "bytes 0-9/10240", id="unsatisfiable-dropped"),
    ],
)
def test_ranges_merged(client: TestClient, header: str, content_range: str) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 206
    assert response.header("Content-Range") == content_range


def test_more_than_16_ranges_whole_file(client: TestClient) -> None:
    header = "bytes=" + ",".join(f"{i * 100}-{i * 100 + 9}" for i in range(17))
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 200
    assert response.data == DATA


def test_ranges_never_make_body_larger_than_file(root: Path) -> None:
    (root / "small.bin").write_bytes(b"x" * 200)
    client = _app_with(root, lambda: send_file("small.bin"))
    response = client.get("/", headers={"Range": "bytes=0-0,10-10,20-20,30-30"})
    assert response.status_code == 200
    assert len(response.data) == 200


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("bytes=5-2", id="last-before-first"),
        pytest.param("bytes=abc", id="garbage"),
        pytest.param("bytes=", id="empty-set"),
        pytest.param("bytes=1-2-3", id="two-dashes"),
        pytest.param("items=0-5", id="other-unit"),
        pytest.param("0-5", id="no-unit"),
        pytest.param("bytes=-", id="lone-dash"),
        pytest.param("bytes=١-٢", id="non-ascii-digits"),
    ],
)
def test_malformed_range_ignored(client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 200
    assert response.data == DATA


def test_unsatisfiable_range_416(client: TestClient) -> None:
    response = client.get("/file", headers={"Range": "bytes=20000-30000"})
    assert response.status_code == 416
    assert response.header("Content-Range") == "bytes */10240"
    assert b"10240 bytes" in response.data


def test_range_on_empty_file_416(client: TestClient) -> None:
    assert client.get("/dl/empty.txt", headers={"Range": "bytes=0-0"}).status_code == 416


def test_range_ignored_for_post(app: App, client: TestClient) -> None:
    app.add_url_rule("/post", "post", lambda: send_file("static/data.bin"), methods=["POST"])
    assert client.post("/post", headers={"Range": "bytes=0-9"}).status_code == 200


def test_range_head_gets_206_headers(client: TestClient) -> None:
    response = client.head("/file", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.header("Content-Range") == "bytes 0-9/10240"
    assert response.data == b""


def test_if_range_etag_and_date(client: TestClient, root: Path) -> None:
    tag = _etag(client)
    mtime = int(os.stat(root / "static" / "data.bin").st_mtime)
    assert client.get("/file", headers={"Range": "bytes=0-9", "If-Range": tag}).status_code == 206
    assert client.get("/file", headers={"Range": "bytes=0-9", "If-Range": '"old"'}).status_code == 200
    assert client.get("/file", headers={"Range": "bytes=0-9", "If-Range": f"W/{tag}"}).status_code == 200
    date = formatdate(mtime, usegmt=True)
    assert client.get("/file", headers={"Range": "bytes=0-9", "If-Range": date}).status_code == 206
    older = formatdate(mtime - 1, usegmt=True)
    assert client.get("/file", headers={"Range": "bytes=0-9", "If-Range": older}).status_code == 200


def test_parse_ranges_unit() -> None:
    assert parse_ranges("bytes=0-0,-1", 10) == [(0, 1), (9, 10)]
    assert parse_ranges("bytes=0-0,,  ,2-2", 10) == [(0, 1), (2, 3)]
    assert parse_ranges("bytes=10-", 10) == []
    assert parse_ranges("bytes=x", 10) is None


# -- closing: the file is closed once, the request ends once ------------------------


class _TrackedFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.closes = 0

    def close(self) -> None:
        self.closes += 1
        super().close()


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        pytest.param("GET", {}, id="get"),
        pytest.param("HEAD", {}, id="head"),
        pytest.param("GET", {"If-None-Match": "*"}, id="304"),
        pytest.param("GET", {"Range": "bytes=99-"}, id="416"),
        pytest.param("GET", {"Range": "bytes=0-1,5-6"}, id="multipart"),
    ],
)
@pytest.mark.parametrize("wrapped", [False, True], ids=["iterated", "file-wrapper"])
def test_file_closed_and_request_ended_once(root: Path, method: str, headers: dict[str, str], wrapped: bool) -> None:
    files: list[_TrackedFile] = []
    ended: list[int] = []

    def view() -> Response:
        files.append(_TrackedFile(b"0123456789" * 5))
        return send_file(files[-1], mimetype="text/plain", etag="e")

    app = App(__name__, static_folder=None, root_path=str(root))
    app.add_url_rule("/", "v", view, methods=["GET"])
    app.teardown_request(lambda exc: ended.append(1))
    overrides = {"wsgi.file_wrapper": FileWrapper} if wrapped else None
    app.test_client().open("/", method, headers=headers, environ_overrides=overrides)
    assert files[0].closes >= 1 and files[0].closed
    assert ended == [1]


def test_file_wrapper_result_is_used_when_offered(root: Path) -> None:
    seen: list[Any] = []

    class Wrapper(FileWrapper):
        def __init__(self, filelike: Any, block_size: int = 8192) -> None:
            seen.append(filelike)
            super().__init__(filelike, block_size)

    client = _app_with(root, lambda: send_file("static/data.bin"))
    response = client.get("/", headers={"Range": "bytes=1-3"}, environ_overrides={"wsgi.file_wrapper": Wrapper})
    assert response.data == DATA[1:4]
    assert len(seen) == 1 and seen[0].tell() == 4  # read to the range's end


def test_response_get_data_closes_file(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    tracked = _TrackedFile(b"abc")
    with app.test_request_context("/"):
        response = send_file(tracked, mimetype="text/plain")
        assert response.get_data() == b"abc"
    assert tracked.closes == 1


# -- send_from_directory: traversal ---------------------------------------------------------

TRAVERSALS = [
    "../secret.txt",
    "../../secret.txt",
    "sub/../../secret.txt",
    "sub/../../../etc/passwd",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "..%2fsecret.txt",
    ".%2e/secret.txt",
    "%252e%252e/secret.txt",
    "..%5csecret.txt",
    "..\\secret.txt",
    "sub\\..\\..\\secret.txt",
    "secret.txt%00.css",
    "style.css%00/../../secret.txt",
    "C:/secret.txt",
    "c:secret.txt",
    "C:%5csecret.txt",
    "link_out.txt",
    "linkdir/secret.txt",
    "linkdir/static/../secret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "..;/secret.txt",
    "%u002e%u002e/secret.txt",
    "%2e%2e%5c%2e%2e%5csecret.txt",
    "sub/..",
    "sub",
    "....//secret.txt",
    "\\\\server\\share\\secret.txt",
    "file:///etc/passwd",
    "%ef%bc%8e%ef%bc%8e/secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("prefix", ["/dl/", "/static/"])
def test_traversal_refused_404(client: TestClient, path: str, prefix: str) -> None:
    response = client.get(prefix + path)
    # An overlong UTF-8 sequence is not a path at all: the request layer answers 400 before routing.
    assert response.status_code == (400 if "%c0" in path else 404)
    assert b"SECRET" not in response.data


@pytest.mark.parametrize("path", ["/etc/passwd", "", "a\x00b", "\\x", "C:\\x", "../x", "a/../../x"])
def test_safe_join_refuses(path: str) -> None:
    assert safe_join("/srv", path) is None


def test_send_from_directory_absolute_path_404(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    with app.test_request_context("/"), pytest.raises(Exception, match="404"):
        send_from_directory("static", str(root / "secret.txt"))


def test_symlink_inside_root_served(client: TestClient) -> None:
    assert client.get("/dl/link_in.txt").data == b"body{color:red}"


def test_nested_and_quoted_names_served(client: TestClient, root: Path) -> None:
    (root / "static" / "a b%41.txt").write_text("spaced")
    assert client.get("/dl/sub/page.html").data == b"<p>hi</p>"
    assert client.get("/dl/a%20b%2541.txt").data == b"spaced"


# -- static view ----------------------------------------------------------------------------


def test_static_view_and_url_for(app: App, client: TestClient) -> None:
    with app.test_request_context("/"):
        assert url_for("static", filename="style.css") == "/static/style.css"
    assert client.get("/static/style.css").data == b"body{color:red}"


def test_static_view_honours_max_age_default(app: App, client: TestClient) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    assert client.get("/static/style.css").header("Cache-Control") == "public, max-age=3600"


def test_static_view_without_folder_404(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    app.add_url_rule("/static/<path:filename>", "static", make_static_view(lambda: None))
    assert app.test_client().get("/static/x").status_code == 404


@pytest.fixture
def variants(root: Path) -> Path:
    css = root / "static" / "style.css"
    (root / "static" / "style.css.gz").write_bytes(b"GZ" * 20)
    (root / "static" / "style.css.br").write_bytes(b"BR" * 10)
    return css


@pytest.mark.parametrize(
    ("accept", "encoding", "body"),
    [
        pytest.param("gzip, br", "br", b"BR" * 10, id="br-preferred"),
        pytest.param("gzip", "gzip", b"GZ" * 20, id="gzip"),
        pytest.param("br;q=0, gzip", "gzip", b"GZ" * 20, id="q0-refused"),
        pytest.param("gzip;q=0.5, br;q=0.1", "gzip", b"GZ" * 20, id="q-order"),
        pytest.param("*", "br", b"BR" * 10, id="star"),
        pytest.param("identity", None, b"body{color:red}", id="identity"),
        pytest.param(None, None, b"body{color:red}", id="none"),
    ],
)
def test_static_precompressed(client: TestClient, variants: Path, accept: str | None, encoding: str | None, body: bytes) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = client.get("/static/style.css", headers=headers)
    assert response.header("Content-Encoding") == encoding
    assert response.header("Vary") == "Accept-Encoding"
    assert response.header("Content-Type") == "text/css; charset=utf-8"
    assert response.data == body


def test_static_precompressed_etag_and_range_per_variant(client: TestClient, variants: Path) -> None:
    plain = client.get("/static/style.css")
    gz = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
    assert plain.header("ETag") != gz.header("ETag")
    ranged = client.get("/static/style.css", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-3"})
    assert (ranged.status_code, ranged.data, ranged.header("Content-Range")) == (206, b"GZGZ", "bytes 0-3/40")
    not_modified = client.get("/static/style.css", headers={"Accept-Encoding": "gzip", "If-None-Match": gz.header("ETag") or ""})
    assert not_modified.status_code == 304
    assert not_modified.header("Vary") == "Accept-Encoding"


def test_static_variant_symlink_follows_the_files_rule(client: TestClient, root: Path) -> None:
    # A variant symlink leading out of the folder is not a variant (it is
    # never sent); one leading to a file inside the folder is.
    static = root / "static"
    (root / "secret.txt.gz").write_bytes(b"SECRET GZ")
    (static / "sub" / "page.html.gz").symlink_to(root / "secret.txt.gz")
    out = client.get("/static/sub/page.html", headers={"Accept-Encoding": "gzip"})
    assert (out.status_code, out.data, out.header("Content-Encoding"), out.header("Vary")) == (200, b"<p>hi</p>", None, None)
    (static / "inside.gz").write_bytes(b"INSIDE GZ")
    (static / "data.bin.gz").symlink_to(static / "inside.gz")
    inside = client.get("/static/data.bin", headers={"Accept-Encoding": "gzip"})
    assert (inside.data, inside.header("Content-Encoding"), inside.header("Vary")) == (b"INSIDE GZ", "gzip", "Accept-Encoding")


def test_static_no_vary_without_variant(client: TestClient) -> None:
    assert client.get("/static/sub/page.html", headers={"Accept-Encoding": "gzip"}).header("Vary") is None


def test_static_url_versioning(app: App, client: TestClient, root: Path) -> None:
    app.config["STATIC_URL_VERSIONING"] = True
    version = file_version(str(root / "static" / "style.css"))
    with app.test_request_context("/"):
        assert url_for("static", filename="style.css") == f"/static/style.css?v={version}"
        assert url_for("static", filename="missing.css") == "/static/missing.css"
    fresh = client.get(f"/static/style.css?v={version}")
    assert fresh.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert client.get("/static/style.css?v=stale").header("Cache-Control") == "no-cache"


def test_static_url_versioning_off_by_default(app: App) -> None:
    with app.test_request_context("/"):
        assert url_for("static", filename="style.css") == "/static/style.css"


def test_file_version_changes_with_content(root: Path) -> None:
    path = root / "static" / "style.css"
    before = file_version(str(path))
    path.write_text("body{color:blue}")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000))
    assert file_version(str(path)) != before


# -- X-Sendfile ------------------------------------------------------------------------------


def test_x_sendfile_header_instead_of_body(root: Path) -> None:
    client = _app_with(root, lambda: send_file("static/data.bin"), USE_X_SENDFILE=True)
    response = client.get("/")
    assert response.header("X-Sendfile") == str(root / "static" / "data.bin")
    assert response.data == b""
    assert response.header("Content-Type") == "application/octet-stream"


def test_x_accel_redirect_with_prefix(root: Path) -> None:
    client = _app_with(
        root,
        lambda: send_file("static/data.bin"),
        USE_X_SENDFILE=True,
        X_SENDFILE_HEADER="X-Accel-Redirect",
        X_ACCEL_PREFIX="/_files/",
    )
    assert client.get("/").header("X-Accel-Redirect") == "/_files" + str(root / "static" / "data.bin")


def test_x_sendfile_not_used_for_file_objects(root: Path) -> None:
    client = _app_with(root, lambda: send_file(io.BytesIO(b"abc"), mimetype="text/plain"), USE_X_SENDFILE=True)
    response = client.get("/")
    assert response.header("X-Sendfile") is None
    assert response.data == b"abc"



def test_bare_response_called_as_wsgi_app_uses_file_wrapper(root: Path) -> None:
    app = App(__name__, static_folder=None, root_path=str(root))
    with app.test_request_context("/"):
        response = send_file("static/data.bin")
    calls: list[Any] = []

    def wrapper(filelike: Any, block_size: int = 8192) -> FileWrapper:
        calls.append(filelike)
        return FileWrapper(filelike, block_size)

    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    result = response({"REQUEST_METHOD": "GET", "wsgi.file_wrapper": wrapper}, start_response)
    assert isinstance(result, FileWrapper) and len(calls) == 1
    assert b"".join(result) == DATA
    result.close()
    assert statuses == ["200 OK"]


def test_send_file_outside_request_raises(root: Path) -> None:
    with pytest.raises(RuntimeError):
        send_file(str(root / "static" / "data.bin"))


def test_static_answers_follow_a_changed_file(tmp_path: Path) -> None:
    # The per-name and per-version caches of the static path never serve stale metadata.
    (tmp_path / "static").mkdir()
    target = tmp_path / "static" / "site.css"
    target.write_bytes(b"a{}")
    os.utime(target, (1_700_000_000, 1_700_000_000))
    app = App(__name__, root_path=str(tmp_path))
    client = app.test_client()
    first = client.get("/static/site.css")
    assert first.data == b"a{}" and first.header("Content-Length") == "3"
    target.write_bytes(b"body{color:red}")
    os.utime(target, (1_700_000_100, 1_700_000_100))
    second = client.get("/static/site.css", headers={"If-None-Match": first.header("ETag") or ""})
    assert second.status_code == 200
    assert second.data == b"body{color:red}"
    assert second.header("ETag") != first.header("ETag")
    assert second.header("Last-Modified") == "Tue, 14 Nov 2023 22:15:00 GMT"
    (tmp_path / "static" / "site.css.gz").write_bytes(b"gz")
    third = client.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
    assert third.header("Content-Encoding") == "gzip" and third.header("Vary") == "Accept-Encoding"
    assert third.data == b"gz"
