"""Request bodies and uploads through the full WSGI call: forms, files, limits, malformed bodies."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from sluice.app import App
from sluice.ctx import request
from sluice.testing import TestClient
from sluice.testing import TestResponse
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.request import Request
from sluice.wrappers.response import call_wsgi_app
from tests.apps.uploads_app import CountingInput
from tests.apps.uploads_app import app as uploads_app

KIB = 1024
MIB = 1024 * 1024


@pytest.fixture
def client() -> TestClient:
    return uploads_app.test_client()


def _post(
    client: TestClient, path: str, body: bytes, content_type: str, *, chunked: bool = False
) -> tuple[TestResponse, int]:
    """POST ``body`` with a counting ``wsgi.input``; return the response and the body bytes the app read.

    ``chunked`` sends no ``CONTENT_LENGTH``, as a server does for a chunked body.
    """
    environ = client.build_environ(path, "POST", data=body, content_type=content_type)
    stream = CountingInput(body)
    environ["wsgi.input"] = stream
    if chunked:
        del environ["CONTENT_LENGTH"]
    status, headers, data = call_wsgi_app(client.app, environ)
    return TestResponse(status, headers, data), stream.bytes_read


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "bnd") -> bytes:
    out = b""
    for head, content in parts:
        out += f"--{boundary}\r\n{head}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _field(name: str, value: bytes) -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"', value)


def _file(name: str, filename: str, content: bytes) -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: application/octet-stream', content)


# -- the test client's multipart encoding -------------------------------------


def test_test_client_file_tuple_and_fields_sent_as_multipart(client: TestClient) -> None:
    response = client.post(
        "/echo", data={"title": "héllo", "count": 3, "f": (io.BytesIO(b"file body"), "notes.txt")}
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "form": {"title": ["héllo"], "count": ["3"]},
        "files": {
            "f": [
                {
                    "filename": "notes.txt",
                    "name": "f",
                    "content_type": "text/plain",
                    "mimetype": "text/plain",
                    "size": 9,
                    "sha256": hashlib.sha256(b"file body").hexdigest(),
                }
            ]
        },
    }


def test_test_client_file_tuple_with_content_type(client: TestClient) -> None:
    response = client.post("/echo", data={"f": (io.BytesIO(b"{}"), "x.bin", "application/json; charset=utf-8")})
    upload = response.get_json()["files"]["f"][0]
    assert (upload["content_type"], upload["mimetype"]) == ("application/json; charset=utf-8", "application/json")


def test_test_client_list_of_files_for_one_field(client: TestClient) -> None:
    response = client.post(
        "/echo",
        data={"f": [(io.BytesIO(b"one"), "a.txt"), (io.BytesIO(b"two" * 1000), "b.dat", "image/png")], "k": ["1", "2"]},
    )
    body = response.get_json()
    assert body["form"] == {"k": ["1", "2"]}
    assert [(f["filename"], f["content_type"], f["size"]) for f in body["files"]["f"]] == [
        ("a.txt", "text/plain", 3),
        ("b.dat", "image/png", 3000),
    ]


def test_test_client_file_object_named_by_its_name(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with path.open("rb") as file:
        response = client.post("/echo", data={"f": file})
    upload = response.get_json()["files"]["f"][0]
    assert (upload["filename"], upload["content_type"], upload["size"]) == ("report.csv", "text/csv", 8)


def test_test_client_quotes_and_newlines_in_names_encoded(client: TestClient) -> None:
    response = client.post("/echo", data={'a"b': "v", "f": (io.BytesIO(b"x"), 'we"ird\nname.txt')})
    body = response.get_json()
    assert body["form"] == {"a%22b": ["v"]}
    assert body["files"]["f"][0]["filename"] == "we%22ird%0Aname.txt"


def test_test_client_multipart_content_type_without_files(client: TestClient) -> None:
    environ = client.build_environ("/echo", "POST", data={"a": "1"}, content_type="multipart/form-data")
    assert environ["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")
    response = client.post("/echo", data={"a": "1"}, content_type="multipart/form-data")
    assert response.get_json() == {"form": {"a": ["1"]}, "files": {}}


def test_test_client_plain_mapping_stays_urlencoded(client: TestClient) -> None:
    environ = client.build_environ("/echo", "POST", data={"a": "1 2"})
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert environ["wsgi.input"].read() == b"a=1+2"


def test_test_client_bad_file_tuple_typeerror(client: TestClient) -> None:
    with pytest.raises(TypeError, match=r"give a file as \(file, filename\)"):
        client.post("/echo", data={"f": ("not a file", "x.txt")})


# -- form, files, FileStorage -------------------------------------------------


def test_request_files_filestorage_attributes() -> None:
    body = _multipart([
        ('Content-Disposition: form-data; name="doc"; filename="r\u00e9sum\u00e9.pdf"\r\nContent-Type: application/pdf\r\nX-Extra: 1',
         b"%PDF-1.7"),
    ])
    request = Request(TestClient(uploads_app).build_environ("/", "POST", data=body, content_type="multipart/form-data; boundary=bnd"))
    upload = request.files["doc"]
    assert (upload.filename, upload.name, upload.content_type, upload.mimetype) == (
        "résumé.pdf", "doc", "application/pdf", "application/pdf"
    )
    assert upload.headers["X-Extra"] == "1"
    assert upload.read() == b"%PDF-1.7"
    request.close()
    assert upload.stream.closed


@pytest.mark.parametrize(("size", "rolled"), [(1024, False), (1025, True)], ids=["at-threshold-memory", "over-threshold-disk"])
def test_request_files_spool_to_disk_past_max_file_memory_size(size: int, rolled: bool) -> None:
    body = _multipart([_file("f", "a.bin", b"x" * size)])
    request = uploads_app.request_class(
        TestClient(uploads_app).build_environ("/", "POST", data=body, content_type="multipart/form-data; boundary=bnd")
    )
    upload = request.files["f"]
    # SpooledTemporaryFile keeps no public flag; _rolled is the stdlib's own.
    assert upload.stream._rolled is rolled  # type: ignore[attr-defined]
    assert upload.read() == b"x" * size
    request.close()


def test_request_max_file_memory_size_default_512_kib() -> None:
    assert Request.max_file_memory_size == 512 * 1024


def test_filestorage_save_to_path_and_file_object(tmp_path: Path) -> None:
    content = bytes(range(256)) * 1000
    upload = FileStorage(io.BytesIO(content), "x.bin", "f")
    upload.save(tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == content
    upload.stream.seek(0)
    target = io.BytesIO()
    upload.save(target)
    assert target.getvalue() == content


def test_filestorage_save_over_the_test_client(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_TEST_UPLOAD_DIR", str(tmp_path))
    content = b"\x00\r\n--bnd" * 50_000  # 400 kB, looks like a delimiter, spools to disk
    response = client.post("/save", data={"f": (io.BytesIO(content), "../../etc/passwd")})
    assert response.get_json() == {"saved_as": "etc_passwd", "size": len(content)}
    assert list(tmp_path.iterdir()) == []


def test_request_stream_reads_a_raw_body(client: TestClient) -> None:
    body = bytes(range(256)) * 4000
    response, read = _post(client, "/stream", body, "application/octet-stream")
    assert response.get_json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert read == len(body)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_request_form_urlencoded_and_multipart(client: TestClient, chunked: bool) -> None:
    response, _ = _post(client, "/echo", b"a=1&b=%C3%A9&a=2", "application/x-www-form-urlencoded", chunked=chunked)
    assert response.get_json() == {"form": {"a": ["1", "2"], "b": ["é"]}, "files": {}}
    body = _multipart([_field("a", b"x"), _file("f", "f.bin", b"\r\n--bn" * 1000)])
    response, read = _post(client, "/echo", body, "multipart/form-data; boundary=bnd", chunked=chunked)
    assert response.status_code == 200
    assert response.get_json()["files"]["f"][0]["size"] == 6000
    assert read == len(body)


# -- limits ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/echo", "/stream"])
def test_max_content_length_known_length_413_before_reading(client: TestClient, path: str) -> None:
    body = _multipart([_file("f", "big.bin", b"x" * (MIB + 1))])
    response, read = _post(client, path, body, "multipart/form-data; boundary=bnd")
    assert response.status_code == 413
    assert "the limit is 1048576 (MAX_CONTENT_LENGTH)" in response.text
    assert read == 0
    assert response.headers["X-Body-Bytes-Read"] == "0"


@pytest.mark.parametrize("path", ["/echo", "/stream"])
def test_max_content_length_chunked_413_stops_at_the_limit(client: TestClient, path: str) -> None:
    body = _multipart([_file("f", "big.bin", b"x" * (8 * MIB))])
    response, read = _post(client, path, body, "multipart/form-data; boundary=bnd", chunked=True)
    assert response.status_code == 413
    assert "larger than 1048576 bytes (MAX_CONTENT_LENGTH)" in response.text
    assert MIB < read <= MIB + 1
    assert response.headers["X-Body-Bytes-Read"] == str(read)


def test_max_content_length_body_at_the_limit_accepted(client: TestClient) -> None:
    head = b'--bnd\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
    tail = b"\r\n--bnd--\r\n"
    body = head + b"y" * (MIB - len(head) - len(tail)) + tail
    assert len(body) == MIB
    for chunked in (False, True):
        response, read = _post(client, "/echo", body, "multipart/form-data; boundary=bnd", chunked=chunked)
        assert response.status_code == 200, response.text
        assert read == MIB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_max_form_memory_size_multipart_field_413_stops_reading(client: TestClient, chunked: bool) -> None:
    body = _multipart([_field("big", b"v" * (600 * KIB))])
    response, read = _post(client, "/echo", body, "multipart/form-data; boundary=bnd", chunked=chunked)
    assert response.status_code == 413
    assert "The form fields exceed 65536 bytes (MAX_FORM_MEMORY_SIZE)" in response.text
    # The parser reads 64 KiB at a time: it stops within one read of the limit.
    assert read <= 64 * KIB + 64 * KIB + 100


def test_max_form_memory_size_counts_fields_not_files(client: TestClient) -> None:
    body = _multipart([_field("a", b"v" * (40 * KIB)), _file("f", "f.bin", b"x" * (200 * KIB)), _field("b", b"w" * (20 * KIB))])
    response, _ = _post(client, "/echo", body, "multipart/form-data; boundary=bnd")
    assert response.status_code == 200
    body = _multipart([_field("a", b"v" * (40 * KIB)), _field("b", b"w" * (30 * KIB))])
    response, _ = _post(client, "/echo", body, "multipart/form-data; boundary=bnd")
    assert response.status_code == 413


def test_max_form_memory_size_urlencoded_known_length_413_before_reading(client: TestClient) -> None:
    response, read = _post(client, "/echo", b"a=" + b"x" * (64 * KIB), "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "form body (MAX_FORM_MEMORY_SIZE) is 65538 bytes; the limit is 65536" in response.text
    assert read == 0


def test_max_form_memory_size_urlencoded_chunked_413_stops_at_the_limit(client: TestClient) -> None:
    response, read = _post(client, "/echo", b"a=" + b"x" * (512 * KIB), "application/x-www-form-urlencoded", chunked=True)
    assert response.status_code == 413
    assert "exceeds 65536 bytes" in response.text
    assert read == 64 * KIB + 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(_multipart([_field(f"k{i}", b"v") for i in range(51)]), "multipart/form-data; boundary=bnd", id="multipart"),
        pytest.param("&".join(f"k{i}=v" for i in range(51)).encode(), "application/x-www-form-urlencoded", id="urlencoded"),
    ],
)
def test_max_form_parts_413(client: TestClient, body: bytes, content_type: str) -> None:
    response, _ = _post(client, "/echo", body, content_type)
    assert response.status_code == 413
    assert "more than 50" in response.text and "(MAX_FORM_PARTS)" in response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(_multipart([_field(f"k{i}", b"v") for i in range(50)]), "multipart/form-data; boundary=bnd", id="multipart"),
        pytest.param("&".join(f"k{i}=v" for i in range(50)).encode(), "application/x-www-form-urlencoded", id="urlencoded"),
    ],
)
def test_max_form_parts_at_the_limit_accepted(client: TestClient, body: bytes, content_type: str) -> None:
    response, _ = _post(client, "/echo", body, content_type)
    assert response.status_code == 200
    assert len(response.get_json()["form"]) == 50


def test_limits_none_means_no_limit() -> None:
    app = App(__name__)
    app.config.update(MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=None, MAX_FORM_PARTS=None)

    @app.post("/")
    def view() -> dict[str, Any]:
        return {"fields": len(request.form), "size": len(request.form["big"])}

    body = _multipart([_field("big", b"v" * (2 * MIB))] + [_field(f"k{i}", b"") for i in range(1500)])
    response = app.test_client().post("/", data=body, content_type="multipart/form-data; boundary=bnd")
    assert response.get_json() == {"fields": 1501, "size": 2 * MIB}


# -- malformed bodies -----------------------------------------------------------

MALFORMED = [
    pytest.param(b"x", "multipart/form-data", "missing or invalid boundary", id="no-boundary"),
    pytest.param(b"x", "multipart/form-data; boundary=" + "b" * 71, "missing or invalid boundary", id="boundary-too-long"),
    pytest.param(b"x", "multipart/form-data; boundary=a@b", "missing or invalid boundary", id="boundary-bad-character"),
    pytest.param(b"no delimiter at all", "multipart/form-data; boundary=bnd", "no boundary delimiter", id="no-delimiter"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "multipart/form-data; boundary=bnd",
                 "ends before its closing", id="truncated-in-data"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n", "multipart/form-data; boundary=bnd",
                 "ends inside a part's headers", id="truncated-in-headers"),
    pytest.param(b"--bnd", "multipart/form-data; boundary=bnd", "ends early", id="truncated-after-delimiter"),
    pytest.param(b"--bnd\r\nno colon\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd", "has no ':'", id="header-without-colon"),
    pytest.param(b"--bnd\r\nBad Name: v\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd", "header is malformed", id="header-bad-name"),
    pytest.param(b"--bnd\r\nX: a\x01b\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd", "header is malformed", id="header-control-character"),
    pytest.param(b"--bnd\r\nX: \xff\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd", "not valid UTF-8", id="header-not-utf8"),
    pytest.param(b"--bnd\r\nContent-Type: text/plain\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd",
                 "lacks 'Content-Disposition", id="missing-content-disposition"),
    pytest.param(b"--bnd\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd",
                 "lacks 'Content-Disposition", id="disposition-not-form-data"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data\r\n\r\nv\r\n--bnd--", "multipart/form-data; boundary=bnd",
                 "lacks 'Content-Disposition", id="disposition-without-name"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=a\r\nX: " + b"y" * 9000 + b"\r\n\r\nv\r\n--bnd--",
                 "multipart/form-data; boundary=bnd", "headers exceed 8192 bytes", id="header-block-too-large"),
    pytest.param(b"--bnd junk\r\n", "multipart/form-data; boundary=bnd", "junk after a boundary", id="junk-after-delimiter"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--bnd--", "multipart/form-data; boundary=bnd",
                 "not valid utf-8", id="field-not-utf8"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=nope\r\n\r\nv\r\n--bnd--",
                 "multipart/form-data; boundary=bnd", "not valid nope", id="unknown-charset"),
    pytest.param(b"--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=ascii\r\n\r\n\xe9\r\n--bnd--",
                 "multipart/form-data; boundary=bnd", "not valid ascii", id="undecodable-charset"),
    pytest.param(b"a=%zz", "application/x-www-form-urlencoded", "'%' not followed by two hex digits", id="urlencoded-bad-percent"),
    pytest.param(b"a=%", "application/x-www-form-urlencoded", "'%' not followed by two hex digits", id="urlencoded-lone-percent"),
    pytest.param(b"a=%ff", "application/x-www-form-urlencoded", "not valid UTF-8", id="urlencoded-not-utf8"),
    pytest.param(b"%c3=1", "application/x-www-form-urlencoded", "not valid UTF-8", id="urlencoded-key-not-utf8"),
]


@pytest.mark.parametrize(("body", "content_type", "message"), MALFORMED)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_malformed_body_400_with_message(client: TestClient, body: bytes, content_type: str, message: str, chunked: bool) -> None:
    response, _ = _post(client, "/echo", body, content_type, chunked=chunked)
    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")


def test_malformed_json_error_body_for_json_clients(client: TestClient) -> None:
    environ = client.build_environ("/echo", "POST", data=b"x", content_type="multipart/form-data", headers={"Accept": "application/json"})
    status, _, data = call_wsgi_app(client.app, environ)
    assert status.startswith("400")
    assert "boundary" in json.dumps(json.loads(data))


@pytest.mark.parametrize(("limit", "on_disk"), [(10, True), (None, False), ("default", False)])
def test_max_file_memory_size_config_decides_where_an_upload_is_kept(limit: object, on_disk: bool) -> None:
    # config["MAX_FILE_MEMORY_SIZE"] reaches the request: a file above it is spooled to disk.
    app = App(__name__)
    if limit != "default":
        app.config["MAX_FILE_MEMORY_SIZE"] = limit

    @app.post("/up")
    def up() -> dict[str, object]:
        stream = request.files["f"].stream
        rolled = bool(getattr(stream, "_rolled", True))
        return {"size": len(request.files["f"].read()), "rolled": rolled}

    response = app.test_client().post("/up", data={"f": (io.BytesIO(b"x" * 100), "a.bin")})
    assert response.get_json() == {"size": 100, "rolled": on_disk}


def test_max_file_memory_size_config_must_be_bytes() -> None:
    app = App(__name__)
    app.config["MAX_FILE_MEMORY_SIZE"] = "big"
    app.add_url_rule("/", "index", lambda: "x")
    with pytest.raises(ValueError, match="MAX_FILE_MEMORY_SIZE"):
        app.freeze()
