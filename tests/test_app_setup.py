"""Tests of an app's folders and resources: root_path, instance_path, config loaders, static folders.

Where Flask 3 has the behaviour, these assert Flask's.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

import pytest

from sluice import App
from sluice import Blueprint
from sluice import url_for
from sluice import errors as sluice_errors
from sluice.errors import NotFound

HERE = Path(__file__).resolve().parent


def _package(tmp_path: Path, name: str) -> Path:
    """A package ``name`` under tmp_path (on sys.path) with one module ``views``."""
    pkg = tmp_path / name
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "views.py").write_text("")
    return pkg


@pytest.fixture
def syspath(tmp_path: Path) -> object:
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


# -- root_path and instance_path ----------------------------------------------------------


def test_root_path_is_the_folder_of_the_module() -> None:
    assert App(__name__).root_path == str(HERE)
    assert Blueprint("bp", __name__).root_path == str(HERE)


def test_root_path_of_a_package_is_the_package_folder(syspath: Path) -> None:
    pkg = _package(syspath, "rootpkg_a")
    assert App("rootpkg_a").root_path == str(pkg)
    assert App("rootpkg_a.sub.views").root_path == str(pkg / "sub")


def test_root_path_given_wins(tmp_path: Path) -> None:
    assert App(__name__, root_path=str(tmp_path)).root_path == str(tmp_path)


def test_instance_path_is_beside_the_top_level_package(syspath: Path) -> None:
    # As Flask: the top-level package or module decides, whatever the submodule.
    _package(syspath, "instpkg_b")
    (syspath / "instmod_c.py").write_text("")
    assert App("instpkg_b").instance_path == str(syspath / "instance")
    assert App("instpkg_b.sub.views").instance_path == str(syspath / "instance")
    assert App("instmod_c").instance_path == str(syspath / "instance")


def test_instance_path_given_must_be_absolute(tmp_path: Path) -> None:
    assert App(__name__, instance_path=str(tmp_path)).instance_path == str(tmp_path)
    with pytest.raises(ValueError, match="must be an absolute path"):
        App(__name__, instance_path="relative/instance")


def test_instance_path_is_not_created() -> None:
    # Flask leaves creating it to the app (os.makedirs(app.instance_path, exist_ok=True)).
    app = App(__name__, instance_path="/nonexistent-sluice-instance")
    assert not os.path.exists(app.instance_path)


# -- config loaders -------------------------------------------------------------------------


def test_from_pyfile_takes_upper_case_names(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("SECRET_KEY = 'k'\nlower = 1\nNUMBERS = [n * 2 for n in range(3)]\n")
    app = App(__name__, root_path=str(tmp_path))
    assert app.config.from_pyfile("settings.py") is True
    assert app.config["SECRET_KEY"] == "k" and app.config["NUMBERS"] == [0, 2, 4]
    assert "lower" not in app.config


def test_from_pyfile_relative_to_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("DATABASE = 'in-instance'\n")
    app = App(__name__, instance_path=str(instance), instance_relative_config=True)
    app.config.from_pyfile("config.py")
    assert app.config["DATABASE"] == "in-instance"


def test_from_pyfile_missing(tmp_path: Path) -> None:
    app = App(__name__, root_path=str(tmp_path))
    assert app.config.from_pyfile("missing.py", silent=True) is False
    with pytest.raises(FileNotFoundError, match="cannot load the configuration file") as raised:
        app.config.from_pyfile("missing.py")
    assert raised.value.filename == str(tmp_path / "missing.py")


def test_from_pyfile_error_in_the_file_propagates(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("X = 1 / 0\n")
    with pytest.raises(ZeroDivisionError):
        App(__name__, root_path=str(tmp_path)).config.from_pyfile("bad.py", silent=True)


def test_from_file_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"A": 1, "b": 2}))
    (tmp_path / "c.toml").write_text('B = "two"\n')
    app = App(__name__, root_path=str(tmp_path))
    assert app.config.from_file("c.json", load=json.load) is True
    assert app.config.from_file("c.toml", load=tomllib.load, text=False) is True
    assert app.config["A"] == 1 and app.config["B"] == "two" and "b" not in app.config
    assert app.config.from_file("none.json", load=json.load, silent=True) is False
    with pytest.raises(FileNotFoundError, match="cannot load the configuration file"):
        app.config.from_file("none.json", load=json.load)


def test_from_envvar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "env.py").write_text("FROM_ENV = True\n")
    app = App(__name__)
    monkeypatch.delenv("SLUICE_TEST_SETTINGS", raising=False)
    assert app.config.from_envvar("SLUICE_TEST_SETTINGS", silent=True) is False
    with pytest.raises(RuntimeError, match="SLUICE_TEST_SETTINGS.*is not set"):
        app.config.from_envvar("SLUICE_TEST_SETTINGS")
    monkeypatch.setenv("SLUICE_TEST_SETTINGS", str(tmp_path / "env.py"))
    assert app.config.from_envvar("SLUICE_TEST_SETTINGS") is True
    assert app.config["FROM_ENV"] is True


def test_get_namespace() -> None:
    app = App(__name__)
    app.config.from_mapping(IMAGE_STORE_TYPE="fs", IMAGE_STORE_PATH="/x", OTHER=1)
    assert app.config.get_namespace("IMAGE_STORE_") == {"type": "fs", "path": "/x"}
    assert app.config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/x",
    }


# -- resources -------------------------------------------------------------------------------


def test_open_resource_reads_from_root_path(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (x);\n")
    app = App(__name__, root_path=str(tmp_path))
    with app.open_resource("schema.sql") as file:
        assert file.read() == b"CREATE TABLE t (x);\n"
    with app.open_resource("schema.sql", "r", encoding="utf-8") as file:
        assert file.read().startswith("CREATE")
    with pytest.raises(ValueError, match="for reading only"):
        app.open_resource("schema.sql", "w")
    with pytest.raises(FileNotFoundError):
        app.open_resource("missing.sql")


def test_open_instance_resource_reads_and_writes(tmp_path: Path) -> None:
    app = App(__name__, instance_path=str(tmp_path))
    with app.open_instance_resource("notes.txt", "w") as file:
        file.write("é")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "é"
    with app.open_instance_resource("notes.txt") as file:
        assert file.read() == "é".encode()


# -- static folders ---------------------------------------------------------------------------


def _static_app(tmp_path: Path, **kwargs: object) -> App:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body{}")
    return App(__name__, root_path=str(tmp_path), **kwargs)  # type: ignore[arg-type]


def test_static_folder_served_by_default(tmp_path: Path) -> None:
    app = _static_app(tmp_path)
    response = app.test_client().get("/static/site.css")
    assert response.status == "200 OK"
    assert response.data == b"body{}"
    assert response.header("Content-Type") == "text/css; charset=utf-8"
    with app.test_request_context():
        assert url_for("static", filename="site.css") == "/static/site.css"
        assert app.send_static_file("site.css").status_code == 200


def test_static_url_path_and_no_static_folder(tmp_path: Path) -> None:
    app = _static_app(tmp_path, static_url_path="/assets")
    assert app.static_url_path == "/assets"
    assert app.test_client().get("/assets/site.css").data == b"body{}"
    assert app.test_client().get("/static/site.css").status == "404 NOT FOUND"
    bare = App(__name__, root_path=str(tmp_path), static_folder=None)
    assert "static" not in bare.view_functions
    with bare.test_request_context(), pytest.raises(NotFound):
        bare.send_static_file("site.css")


def test_static_url_path_defaults_to_the_folder_name(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "a.txt").write_text("a")
    app = App(__name__, root_path=str(tmp_path), static_folder="public")
    assert app.static_url_path == "/public"
    assert app.test_client().get("/public/a.txt").data == b"a"


def test_blueprint_static_folder(tmp_path: Path) -> None:
    (tmp_path / "bp_static").mkdir()
    (tmp_path / "bp_static" / "x.js").write_text("x()")
    app = App(__name__, root_path=str(tmp_path), static_folder=None)
    bp = Blueprint("admin", __name__, root_path=str(tmp_path), static_folder="bp_static", url_prefix="/admin")
    app.register_blueprint(bp)
    assert app.test_client().get("/admin/bp_static/x.js").data == b"x()"
    with app.test_request_context():
        assert url_for("admin.static", filename="x.js") == "/admin/bp_static/x.js"
    other = Blueprint("files", __name__, root_path=str(tmp_path), static_folder="bp_static", static_url_path="/s")
    app2 = App(__name__, root_path=str(tmp_path), static_folder=None)
    app2.register_blueprint(other, url_prefix="/f")
    assert app2.test_client().get("/f/s/x.js").data == b"x()"
    assert app2.test_client().get("/f/s/../bp_static/x.js").status == "404 NOT FOUND"


# -- blueprints: app-wide hooks and setup order ------------------------------------------------


def test_blueprint_app_wide_hooks_apply_to_every_request() -> None:
    app = App(__name__)
    bp = Blueprint("bp", __name__)
    events: list[str] = []

    @bp.before_app_request
    def before() -> None:
        events.append("before")

    @bp.after_app_request
    def after(response: object) -> object:
        events.append("after")
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {exc!r}")

    @bp.app_errorhandler(404)
    def missing(exc: BaseException) -> tuple[str, int]:
        return "bp says missing", 404

    @bp.app_url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, object] | None) -> None:
        events.append(f"preprocess {endpoint}")

    @bp.app_url_defaults
    def defaults(endpoint: str, values: dict[str, object]) -> None:
        values.setdefault("lang", "en")

    app.add_url_rule("/<lang>/page", "page", lambda lang: url_for("page"))
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/fr/page").data == b"/en/page"
    assert events == ["preprocess page", "before", "after", "teardown None"]
    assert client.get("/nowhere").data == b"bp says missing"


def test_blueprint_url_value_preprocessor_and_defaults_are_scoped() -> None:
    app = App(__name__)
    bp = Blueprint("shop", __name__, url_prefix="/<lang>/shop")
    seen: list[object] = []

    @bp.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, object] | None) -> None:
        assert values is not None
        seen.append(values.pop("lang"))

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, object]) -> None:
        values.setdefault("lang", "de")

    bp.add_url_rule("/item", "item", lambda: url_for("shop.item"))
    app.add_url_rule("/home", "home", lambda: "home")
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/it/shop/item").data == b"/de/shop/item"
    assert seen == ["it"]
    assert client.get("/home").data == b"home"
    assert seen == ["it"]


def test_blueprint_setup_after_registration_is_an_error() -> None:
    app = App(__name__)
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="already registered on an app"):
        bp.before_request(lambda: None)
    with pytest.raises(RuntimeError, match="already registered on an app"):
        bp.add_url_rule("/x", "x", lambda: "x")


def test_app_and_blueprint_register_error_handler_signature() -> None:
    # Flask's signature: register_error_handler(code_or_exception, f).
    app = App(__name__)
    bp = Blueprint("bp", __name__)
    bp.register_error_handler(KeyError, lambda exc: ("bp key", 400))
    app.register_error_handler(KeyError, lambda exc: ("app key", 400))

    def fail() -> str:
        raise KeyError("x")

    bp.add_url_rule("/bp", "fail", fail)
    app.add_url_rule("/app", "fail", fail)
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/bp").data == b"bp key"
    assert client.get("/app").data == b"app key"


def test_config_repr_and_root_path(tmp_path: Path) -> None:
    app = App(__name__, root_path=str(tmp_path))
    assert app.config.root_path == str(tmp_path)
    assert repr(app.config).startswith("<Config {")
    relative = App(__name__, root_path=str(tmp_path), instance_path=str(tmp_path / "i"), instance_relative_config=True)
    assert relative.config.root_path == str(tmp_path / "i")


def test_make_response_helper_and_flask_names_exported() -> None:
    import sluice

    app = App(__name__)

    @app.get("/")
    def index() -> object:
        response = sluice.make_response("made", 201, {"X-Made": "yes"})
        response.headers.set("X-Changed", "1")
        return response

    @app.get("/empty")
    def empty() -> object:
        return sluice.make_response()

    client = app.test_client()
    response = client.get("/")
    assert response.status == "201 CREATED"
    assert response.header("X-Made") == "yes" and response.header("X-Changed") == "1"
    assert response.data == b"made"
    assert client.get("/empty").data == b""
    with app.test_request_context():
        assert sluice.has_request_context() and sluice.has_app_context()
    assert not sluice.has_request_context()
    assert sluice.Config is type(app.config)
    with pytest.raises(RuntimeError):
        sluice.make_response("outside")


def test_trailing_slash_redirect_keeps_mount_point_and_encodes_the_path() -> None:
    app = App(__name__)
    app.add_url_rule("/dir/", "dir", lambda: "dir")
    app.add_url_rule("/<name>/", "named", lambda name: name)
    mounted = app.test_client(base_url="http://localhost/app")
    response = mounted.get("/dir", query_string="a=1")
    assert response.status == "308 PERMANENT REDIRECT"
    assert response.location == "/app/dir/?a=1"
    response = app.test_client().get("/caf\u00e9 50%")
    assert response.location == "/caf%C3%A9%2050%25/"
    assert app.test_client().get("/caf\u00e9 50%", follow_redirects=True).data == "caf\u00e9 50%".encode()


def test_startup_hooks_run_once_in_an_application_context() -> None:
    from sluice import current_app
    from sluice import g

    app = App(__name__)
    seen: list[object] = []

    @app.on_startup
    def start() -> None:
        g.started = True
        seen.append(current_app.import_name)

    @app.get("/")
    def index() -> str:
        return str(g.get("started", False))

    client = app.test_client()
    assert client.get("/").data == b"False"  # the startup context's g is not the request's
    assert client.get("/").data == b"False"
    assert seen == [__name__]


def test_redirect_encodes_the_location_and_has_a_small_page() -> None:
    from sluice import redirect

    app = App(__name__)
    with app.test_request_context():
        response = redirect("/caf\u00e9?a=1&b=<2>#top", 301)
        assert response.status_code == 301
        assert response.headers.get("Location") == "/caf%C3%A9?a=1&b=%3C2%3E#top"
        assert response.headers.get("Content-Type") == "text/html; charset=utf-8"
        page = response.get_data()
        assert b'<a href="/caf%C3%A9?a=1&amp;b=%3C2%3E#top">' in page
        already = redirect("/x%20y?q=%3D")
        assert already.headers.get("Location") == "/x%20y?q=%3D"


def test_copy_current_request_context_runs_in_another_thread() -> None:
    import threading

    from sluice import copy_current_request_context
    from sluice import g
    from sluice import request

    app = App(__name__)
    app.secret_key = "k" * 32
    seen: dict[str, object] = {}
    torn: list[object] = []
    app.teardown_request(torn.append)

    @app.get("/work")
    def work() -> str:
        from sluice import session

        session["user"] = "ann"
        g.mine = "view"

        @copy_current_request_context
        def job() -> None:
            seen["path"] = request.path
            seen["user"] = session.get("user")
            seen["g"] = g.get("mine")

        thread = threading.Thread(target=job)
        thread.start()
        thread.join(5)
        return "ok"

    assert app.test_client().get("/work").data == b"ok"
    assert seen == {"path": "/work", "user": "ann", "g": None}  # same request and session, its own g
    assert torn == [None, None]  # the copy's teardown, then the request's
    with pytest.raises(RuntimeError, match="active request context"):
        copy_current_request_context(lambda: None)


def test_get_template_attribute_calls_a_macro(tmp_path: Path) -> None:
    from sluice import get_template_attribute

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "macros.html").write_text("{% macro hello(name) %}Hi {{ name }}!{% endmacro %}")
    app = App(__name__, root_path=str(tmp_path))
    with app.app_context():
        hello = get_template_attribute("macros.html", "hello")
        assert str(hello("<b>")) == "Hi &lt;b&gt;!"


def test_app_json_provider_and_flask_attributes() -> None:
    import datetime
    import logging

    from sluice import json as sluice_json

    app = App(__name__)
    assert app.name == __name__ and app.logger is logging.getLogger(__name__)
    assert app.extensions == {} and app.has_static_folder
    assert app.permanent_session_lifetime == datetime.timedelta(days=31)
    assert app.json.dumps({"b": 1, "a": datetime.date(2024, 1, 2)}) == '{"a":"Tue, 02 Jan 2024 00:00:00 GMT","b":1}'
    app.json.sort_keys = False
    assert app.config["JSON_SORT_KEYS"] is False
    with app.app_context():
        assert sluice_json.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'
    assert sluice_json.loads(b'{"x": [1]}') == {"x": [1]}
    assert sluice_json.dumps({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert app.url_map.is_endpoint_expecting("static", "filename")
    assert not app.url_map.is_endpoint_expecting("static", "lang")


def test_trap_http_exceptions_makes_them_unhandled(caplog: pytest.LogCaptureFixture) -> None:
    from sluice import abort

    app = App(__name__)
    app.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    app.add_url_rule("/bad", "bad", lambda: abort(400))
    client = app.test_client()
    assert client.get("/forbidden").status_code == 403
    app2 = App(__name__)
    app2.config["TRAP_BAD_REQUEST_ERRORS"] = True
    app2.add_url_rule("/bad", "bad", lambda: abort(400))
    app2.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    assert app2.test_client().get("/bad").status_code == 500
    assert app2.test_client().get("/forbidden").status_code == 403
    app3 = App(__name__)
    app3.config.update(TRAP_HTTP_EXCEPTIONS=True, TESTING=True)
    app3.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    with pytest.raises(sluice_errors.Forbidden):
        app3.test_client().get("/forbidden")


def test_session_cookie_partitioned_and_size_warning(caplog: pytest.LogCaptureFixture) -> None:
    from sluice import session

    app = App(__name__)
    app.config.update(SECRET_KEY="k" * 32, SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SECURE=True, MAX_COOKIE_SIZE=100)

    @app.get("/")
    def index() -> str:
        session["data"] = "x" * 200
        return "ok"

    with caplog.at_level("WARNING"):
        response = app.test_client().get("/")
    cookie = response.header("Set-Cookie") or ""
    assert "Partitioned" in cookie and "Secure" in cookie
    assert any("browsers drop cookies" in r.getMessage() for r in caplog.records)


def test_repeated_slashes_redirect_to_the_merged_path() -> None:
    app = App(__name__)
    app.add_url_rule("/a/b", "ab", lambda: "ab")
    app.add_url_rule("/files/<path:name>", "files", lambda name: name)
    client = app.test_client()
    response = client.get("//a///b", query_string="x=1")
    assert response.status_code == 308 and response.location == "/a/b?x=1"
    assert client.get("/files//x").location == "/files/x"
    assert client.get("//nothing//here").status_code == 404


def test_provide_automatic_options_can_be_turned_off() -> None:
    app = App(__name__)

    def plain() -> str:
        return "plain"

    def own() -> str:
        return "own"

    own.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/plain", "plain", plain)
    app.add_url_rule("/own", "own", own)
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/late", "late", plain)
    app.add_url_rule("/kw", "kw", plain, provide_automatic_options=True)
    client = app.test_client()
    assert client.options("/plain").status_code == 200
    assert client.options("/plain").header("Allow") == "GET, HEAD, OPTIONS"
    for path in ("/own", "/late"):
        response = client.options(path)
        assert response.status_code == 405, path
        assert response.header("Allow") == "GET, HEAD"
    assert client.options("/kw").status_code == 200


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com:8080", 200),
        ("api.example.org", 200),
        ("example.org", 200),
        ("deep.api.example.org", 200),
        ("evil.com", 400),
        ("example.com.evil.com", 400),
        ("notexample.org", 400),
        ("[::1]:8000", 400),
    ],
)
def test_trusted_hosts(host: str, status: int) -> None:
    app = App(__name__)
    app.config["TRUSTED_HOSTS"] = ["example.com", ".example.org"]
    app.add_url_rule("/", "index", lambda: "ok")
    response = app.test_client().get("/", headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert b"TRUSTED_HOSTS" in response.data


def test_trusted_hosts_must_be_a_list() -> None:
    app = App(__name__)
    app.config["TRUSTED_HOSTS"] = "example.com"
    with pytest.raises(ValueError, match="list of host names"):
        app.freeze()


def test_values_equal_to_another_rules_defaults_redirect_to_it() -> None:
    app = App(__name__)

    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    client = app.test_client()
    assert client.get("/users/").data == b"page 1"
    assert client.get("/users/page/2").data == b"page 2"
    response = client.get("/users/page/1", query_string="sort=name")
    assert response.status_code == 308 and response.location == "/users/?sort=name"
    with app.test_request_context():
        assert url_for("users") == "/users/" and url_for("users", page=1) == "/users/"
        assert url_for("users", page=3) == "/users/page/3"


def test_flask_is_another_name_of_app() -> None:
    # A Flask app moves by changing 'from flask import Flask, ...' to 'from sluice import Flask, ...'.
    from sluice import Flask

    assert Flask is App
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "hi")
    assert app.test_client().get("/").data == b"hi"
