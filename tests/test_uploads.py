"""Tests of secure_filename: Werkzeug's results for the usual cases, safe on every platform."""

from __future__ import annotations

import pytest
from werkzeug.utils import secure_filename as werkzeug_secure_filename

from sluice import secure_filename

# (input, expected); Werkzeug on a POSIX system gives the same result.
SAME_AS_WERKZEUG = [
    pytest.param("My cool movie.mov", "My_cool_movie.mov", id="spaces"),
    pytest.param("../../../etc/passwd", "etc_passwd", id="traversal"),
    pytest.param("i contain cool \xfcml\xe4uts.txt", "i_contain_cool_umlauts.txt", id="umlauts"),
    pytest.param("photo.jpg", "photo.jpg", id="plain"),
    pytest.param("archive.tar.gz", "archive.tar.gz", id="two-extensions"),
    pytest.param(".htaccess", "htaccess", id="hidden-file"),
    pytest.param("...hidden", "hidden", id="several-leading-dots"),
    pytest.param("__init__.py", "init__.py", id="leading-underscores"),
    pytest.param("trailing.", "trailing", id="trailing-dot"),
    pytest.param("..", "", id="dotdot-empty"),
    pytest.param("../..", "", id="only-traversal-empty"),
    pytest.param("/", "", id="slash-empty"),
    pytest.param("", "", id="empty"),
    pytest.param("日本語.txt", "txt", id="no-ascii-form-dropped"),
    pytest.param("日本語", "", id="all-dropped-empty"),
    pytest.param("a\tb\nc.txt", "a_b_c.txt", id="whitespace-runs"),
    pytest.param("a    b.txt", "a_b.txt", id="space-run-one-underscore"),
    pytest.param("rm -rf *; echo $HOME.txt", "rm_-rf__echo_HOME.txt", id="shell-characters"),
    pytest.param("<script>alert(1)</script>.html", "scriptalert1_script.html", id="markup"),
    pytest.param("file\x00name.txt", "filename.txt", id="nul-byte"),
    pytest.param("/etc/passwd", "etc_passwd", id="absolute-path"),
    pytest.param("a/b/c.txt", "a_b_c.txt", id="nested-path"),
    pytest.param("ﬁle.txt", "file.txt", id="ligature-nfkd"),
    pytest.param("Ĉeĥ.PDF", "Ceh.PDF", id="accents-case-kept"),
    pytest.param("résumé final (2).docx", "resume_final_2.docx", id="parentheses"),
    pytest.param("%2e%2e%2fsecret", "2e2e2fsecret", id="percent-encoded-not-decoded"),
    pytest.param("name-with-dash_and_underscore.txt", "name-with-dash_and_underscore.txt", id="allowed-punctuation"),
    pytest.param("CONSOLE.txt", "CONSOLE.txt", id="not-a-device"),
    pytest.param("a:b.txt", "ab.txt", id="colon"),
    pytest.param(" spaced .txt ", "spaced_.txt", id="surrounding-spaces"),
]

# Where sluice is stricter than Werkzeug on POSIX, on purpose (see the module docstring).
STRICTER = [
    pytest.param("C:\\Users\\me\\file.txt", "C_Users_me_file.txt", id="windows-path"),
    pytest.param("..\\..\\windows\\win.ini", "windows_win.ini", id="backslash-traversal"),
    pytest.param("CON", "_CON", id="con"),
    pytest.param("con.txt", "_con.txt", id="con-lowercase-extension"),
    pytest.param("NUL.tar.gz", "_NUL.tar.gz", id="nul-two-extensions"),
    pytest.param("aux", "_aux", id="aux"),
    pytest.param("PRN.log", "_PRN.log", id="prn"),
    pytest.param("COM1.txt", "_COM1.txt", id="com1"),
    pytest.param("lpt9", "_lpt9", id="lpt9"),
    pytest.param("../CON", "_CON", id="device-after-traversal"),
]


@pytest.mark.parametrize(("filename", "expected"), SAME_AS_WERKZEUG)
def test_secure_filename_matches_werkzeug(filename: str, expected: str) -> None:
    assert secure_filename(filename) == expected
    assert werkzeug_secure_filename(filename) == expected


@pytest.mark.parametrize(("filename", "expected"), STRICTER)
def test_secure_filename_backslashes_and_devices_on_every_platform(filename: str, expected: str) -> None:
    assert secure_filename(filename) == expected


@pytest.mark.parametrize(
    "filename",
    ["../../x", "..\\..\\x", "/abs/x", ".x", "x/../../y", "\u202etxt.exe", "a\r\nb", "\x00", "~/.ssh/id_rsa", "...."],
)
def test_secure_filename_result_is_one_safe_name(filename: str) -> None:
    result = secure_filename(filename)
    assert result.isascii()
    assert "/" not in result and "\\" not in result and "\x00" not in result
    assert not result.startswith(".")
    assert result not in ("..", ".")
    assert all(char.isalnum() or char in "_.-" for char in result)
