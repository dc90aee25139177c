"""``--config FILE``: TOML settings between the defaults and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.cli import main
from sluice.config import resolve
from sluice.errors import ConfigError


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sluice.toml"
    path.write_text(text)
    return str(path)


def test_config_file_precedence_defaults_file_env_cli(tmp_path: Path) -> None:
    path = write(tmp_path, 'threads = 3\nworkers = 4\nmax-requests = 50\nbind = ["127.0.0.1:9001", "unix:/tmp/x.sock"]\npreload = true\n')
    config = resolve({"config": path, "workers": "5"}, {"SLUICE_THREADS": "6", "SLUICE_WORKERS": "7"})
    assert config.threads == 6  # env over file
    assert config.workers == 5  # command line over env and file
    assert config.max_requests == 50  # file over default
    assert config.bind == ["127.0.0.1:9001", "unix:/tmp/x.sock"]
    assert config.preload is True
    assert config.timeout == 30.0  # default


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "graceful_timeout = 7.5\n")
    assert resolve({}, {"SLUICE_CONFIG": path}).graceful_timeout == 7.5


def test_config_file_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "threads = 2\nworkrs = 4\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'workrs' in .*sluice\.toml; known settings: .*workers"):
        resolve({"config": path})


def test_config_file_bad_value_names_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "threads = 0\n")
    with pytest.raises(ConfigError, match=r"invalid value '0' for threads in .*sluice\.toml: must be at least 1"):
        resolve({"config": path})


def test_config_file_invalid_toml_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "threads = \n")
    with pytest.raises(ConfigError, match=r"invalid TOML in --config .*sluice\.toml"):
        resolve({"config": path})


def test_config_file_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read --config .*nothere\.toml"):
        resolve({"config": str(tmp_path / "nothere.toml")})


def test_config_command_with_unknown_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "colour = 'blue'\n")
    assert main(["config", "--config", path]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err


def test_config_command_shows_file_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "max_requests_jitter = 9\n")
    assert main(["config", "--config", path]) == 0
    assert "max_requests_jitter = 9" in capsys.readouterr().out
