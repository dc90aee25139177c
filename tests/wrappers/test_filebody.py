"""RawFile (a bare descriptor) and FileResult's offer of sendfile parts."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import cast

import pytest

from sluice.wrappers.filebody import FileBody
from sluice.wrappers.filebody import FileResult
from sluice.wrappers.filebody import RawFile


def test_raw_file_reads_seeks_and_reports_its_stat(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(200)))
    file, st = RawFile.open(str(path))
    with file:
        assert st.st_size == 200 and file.name == str(path)
        assert file.readable() and file.seekable()
        assert file.read(3) == b"\x00\x01\x02"
        assert file.tell() == 3
        assert file.seek(190) == 190
        assert file.read() == bytes(range(190, 200))
        assert file.read(5) == b""
        file.seek(-2, io.SEEK_END)
        buf = bytearray(5)
        assert file.readinto(buf) == 2 and bytes(buf[:2]) == b"\xc6\xc7"
        fd = file.fileno()
    assert file.closed
    with pytest.raises(ValueError, match="closed file"):
        file.fileno()
    with pytest.raises(OSError):
        os.fstat(fd)  # the descriptor was closed
    file.close()  # twice: nothing happens


def test_raw_file_open_raises_as_open_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RawFile.open(str(tmp_path / "missing"))
    with pytest.raises(IsADirectoryError):
        RawFile.open(str(tmp_path))


def test_raw_file_closed_when_collected(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    file, _ = RawFile.open(str(path))
    fd = file.fileno()
    del file
    with pytest.raises(OSError):
        os.fstat(fd)


@pytest.mark.parametrize("regular", [True, False])
def test_file_result_offers_parts_only_for_a_regular_file(tmp_path: Path, regular: bool) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abcdef")
    file, _ = RawFile.open(str(path))
    body = FileBody(file, [(1, 3)], regular)  # type: ignore[arg-type]
    result = FileResult(body, lambda: None)
    offered = result.sendfile_parts()
    if regular:
        assert offered is not None and offered[0] is cast(object, file) and offered[1] == [(1, 3)]
    else:
        assert offered is None
    assert result.read() == b"bcd"
    result.close()
    assert file.closed
