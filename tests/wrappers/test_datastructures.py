"""Tests of Headers, MultiDict, ImmutableList and FileStorage."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from sluice.errors import BadRequest
from sluice.wrappers.datastructures import FileStorage
from sluice.wrappers.datastructures import Headers
from sluice.wrappers.datastructures import ImmutableHeaders
from sluice.wrappers.datastructures import ImmutableList
from sluice.wrappers.datastructures import MultiDict


def test_headers_getitem_case_insensitive_first_value() -> None:
    headers = Headers([("X-A", "1"), ("x-a", "2")])
    assert headers["X-A"] == "1"
    assert headers.getlist("X-a") == ["1", "2"]


def test_headers_getitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        Headers()["X"]


def test_headers_get_type_conversion_failure_default() -> None:
    headers = Headers({"N": "12", "Bad": "x"})
    assert headers.get("n", type=int) == 12
    assert headers.get("bad", -1, int) == -1
    assert headers.get("missing") is None


def test_headers_set_replaces_all_at_first_position() -> None:
    headers = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    headers["A"] = "9"
    assert headers.items() == [("A", "9"), ("B", "2")]


def test_headers_setdefault_delitem_contains_len() -> None:
    headers = Headers()
    assert headers.setdefault("X", "1") == "1"
    assert headers.setdefault("x", "2") == "1"
    assert "X" in headers and len(headers) == 1
    del headers["x"]
    assert "X" not in headers
    with pytest.raises(KeyError):
        del headers["x"]


def test_headers_iter_yields_pairs() -> None:
    init: dict[str, str | int | list[str]] = {"A": ["1", "2"], "B": 3}
    headers = Headers(init)
    assert list(headers) == [("A", "1"), ("A", "2"), ("B", "3")]
    assert headers.keys() == ["A", "A", "B"]
    assert headers.values() == ["1", "2", "3"]
    assert headers.to_wsgi_list() == [("A", "1"), ("A", "2"), ("B", "3")]


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x", "a\nb", "a\x00b"], ids=["crlf", "lf", "nul"])
def test_headers_add_control_character_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        Headers().add("X", value)


def test_headers_add_bad_name_rejected() -> None:
    with pytest.raises(ValueError, match="not an RFC 9110 token"):
        Headers().add("Bad Name", "x")


def test_headers_from_environ_title_cases_names() -> None:
    environ = {"HTTP_X_REQUEST_ID": "7", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "", "PATH_INFO": "/"}
    headers = Headers.from_environ(environ)
    assert headers.items() == [("X-Request-Id", "7"), ("Content-Type", "text/plain")]


def test_immutable_headers_set_raises_typeerror() -> None:
    headers = ImmutableHeaders.from_environ({"HTTP_A": "1"})
    with pytest.raises(TypeError, match="read-only"):
        headers["A"] = "2"
    copy = headers.copy()
    copy["A"] = "2"
    assert copy["A"] == "2"


def test_multidict_get_getlist_to_dict() -> None:
    md = MultiDict([("a", "1"), ("a", "x"), ("b", "2")])
    assert md["a"] == "1"
    assert md.getlist("a") == ["1", "x"]
    assert md.getlist("a", int) == [1]
    assert md.get("b", type=int) == 2
    assert md.get("a", 0, type=float) == 1.0
    assert md.to_dict() == {"a": "1", "b": "2"}
    assert md.to_dict(flat=False) == {"a": ["1", "x"], "b": ["2"]}


def test_multidict_missing_key_is_badrequest_and_keyerror() -> None:
    md: MultiDict[str] = MultiDict()
    with pytest.raises(KeyError):
        md["x"]
    with pytest.raises(BadRequest, match="no field 'x'"):
        md["x"]


def test_filestorage_read_and_save(tmp_path: Path) -> None:
    upload = FileStorage(io.BytesIO(b"hello"), "a.txt", "f", "text/plain; charset=utf-8")
    assert upload.mimetype == "text/plain" and bool(upload)
    upload.save(tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == b"hello"
    upload.stream.seek(0)
    assert upload.read(2) == b"he"


def test_filestorage_reads_like_a_binary_file() -> None:
    upload = FileStorage(io.BytesIO(b"a,b\n1,2\n"), "t.csv", "f", "text/csv; charset=utf-8")
    assert upload.readline() == b"a,b\n"
    assert upload.tell() == 4
    assert list(upload) == [b"1,2\n"]
    assert upload.seek(0) == 0
    assert upload.read(1) == b"a"
    assert (upload.mimetype, bool(upload), bool(FileStorage(io.BytesIO(), ""))) == ("text/csv", True, False)
    upload.close()
    assert upload.stream.closed


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda items: items.append("x"), id="append"),
        pytest.param(lambda items: items.extend(["x"]), id="extend"),
        pytest.param(lambda items: items.insert(0, "x"), id="insert"),
        pytest.param(lambda items: items.pop(), id="pop"),
        pytest.param(lambda items: items.remove("a"), id="remove"),
        pytest.param(lambda items: items.clear(), id="clear"),
        pytest.param(lambda items: items.sort(), id="sort"),
        pytest.param(lambda items: items.reverse(), id="reverse"),
        pytest.param(lambda items: items.__setitem__(0, "x"), id="setitem"),
        pytest.param(lambda items: items.__delitem__(0), id="delitem"),
        pytest.param(lambda items: items.__iadd__(["x"]), id="iadd"),
        pytest.param(lambda items: items.__imul__(2), id="imul"),
    ],
)
def test_immutable_list_change_raises_typeerror(change: Callable[[ImmutableList[str]], object]) -> None:
    items = ImmutableList(["a", "b"])
    with pytest.raises(TypeError, match="'ImmutableList' objects are immutable; use list"):
        change(items)
    assert items == ["a", "b"]


def test_immutable_list_reads_hash_and_repr() -> None:
    items = ImmutableList(["a", "b"])
    assert items[0] == "a" and items[-1:] == ["b"] and len(items) == 2 and "a" in items
    assert hash(items) == hash(("a", "b"))
    assert repr(items) == "ImmutableList(['a', 'b'])"
    copy = list(items)
    copy.append("c")
    assert items == ["a", "b"]
