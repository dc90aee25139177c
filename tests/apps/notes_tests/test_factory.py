"""The application factory: configuration, instance folder, static files."""

from __future__ import annotations

import os
from typing import Any

from tests.apps.notes import create_app


def test_factory_without_test_config_is_not_testing() -> None:
    assert not create_app().testing


def test_factory_test_config_applied() -> None:
    app = create_app({"TESTING": True, "PASSWORD_ITERATIONS": 5})
    assert app.testing
    assert app.config["PASSWORD_ITERATIONS"] == 5


def test_factory_database_in_instance_folder() -> None:
    app = create_app()
    assert os.path.isdir(app.instance_path)
    assert app.config["DATABASE"] == os.path.join(app.instance_path, "notes.sqlite")


def test_factory_reads_instance_config_py() -> None:
    path = os.path.join(create_app().instance_path, "config.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write("SECRET_KEY = 'from the instance folder'\nPASSWORD_ITERATIONS = 700_000\n")
    try:
        app = create_app()
    finally:
        os.remove(path)
    assert app.config["SECRET_KEY"] == "from the instance folder"
    assert app.config["PASSWORD_ITERATIONS"] == 700_000


def test_factory_test_config_skips_instance_config_py() -> None:
    path = os.path.join(create_app().instance_path, "config.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write("SECRET_KEY = 'from the instance folder'\n")
    try:
        app = create_app({"TESTING": True})
    finally:
        os.remove(path)
    assert app.config["SECRET_KEY"] == "notes-development-key"


def test_stylesheet_served_and_linked(client: Any) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert b".flash.error" in response.data
    assert b'<link rel="stylesheet" href="/static/style.css">' in client.get("/").data
