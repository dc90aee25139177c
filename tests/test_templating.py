"""Tests of templates: rendering, autoescape, context, processors, filters, loaders, signals, reload, streaming."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import requests

from sluice import g
from sluice import render_template
from sluice import render_template_string
from sluice import request
from sluice import signals
from sluice import stream_template
from sluice import stream_template_string
from sluice.jinja_env import Environment
from sluice.testing import TestClient
from tests.apps.templated import create_app
from tests.live import ROOT
from sluice import App
from sluice import Blueprint
from tests.validated import validated_client


def make_app(tmp_path: Path, templates: dict[str, str], **config: Any) -> App:
    """An app whose ``templates/`` folder below ``tmp_path`` holds ``templates`` (name -> source)."""
    for name, source in templates.items():
        path = tmp_path / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    app = App("tests.templating_tmp", root_path=str(tmp_path))
    app.config.update(SECRET_KEY="test-secret-0123456789", **config)
    return app


def rendered(app: App, source_or_name: str, **context: Any) -> str:
    """Render a template name (``*.ext``) or a string inside a request context of ``app``."""
    with app.test_request_context("/page?q=1"):
        if "{" in source_or_name or " " in source_or_name:
            return render_template_string(source_or_name, **context)
        return render_template(source_or_name, **context)


# -- Jinja2 is loaded on first render only -------------------------------------------


_IMPORT_CHECK = """
import sys
import sluice
from sluice import App, render_template, flash, get_flashed_messages
from sluice import App as TemplatedApp
for cls in (App, TemplatedApp):
    app = cls("json_only")
    app.get("/")(lambda: {"ok": True})
    assert app.test_client().get("/").get_json() == {"ok": True}
print(sorted(m for m in ("jinja2", "markupsafe") if m in sys.modules))
if sys.argv[1] == "render":
    app = TemplatedApp("json_only")
    with app.app_context():
        render_template(app.jinja_env.from_string("x"))
    print(sorted(m for m in ("jinja2", "markupsafe") if m in sys.modules))
"""


@pytest.mark.parametrize("then_render", [False, True], ids=["json-only", "then-render"])
def test_templating_json_only_app_does_not_import_jinja2(then_render: bool) -> None:
    argv = [sys.executable, "-c", _IMPORT_CHECK, "render" if then_render else "none"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, check=True)
    lines = out.stdout.split()
    assert lines[0] == "[]"
    if then_render:
        # The check above would see an import: a render does load Jinja2.
        assert lines[1] == "['jinja2',"


def test_templating_jinja_env_made_once_on_first_use() -> None:
    app = create_app()
    assert app._jinja_env is None
    env = app.jinja_env
    assert isinstance(env, Environment)
    assert app.jinja_env is env
    assert env.app is app


# -- rendering and autoescape -------------------------------------------------------


def test_templating_page_with_layout_through_the_client() -> None:
    client = validated_client(create_app())
    response = client.get("/?user=<bob>")
    assert response.status == "200 OK"
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert response.text == (
        "<!doctype html>\n<title>Home &lt;&amp;&gt; - Sluice &lt;Site&gt;</title>\n"
        "<main>user=&lt;bob&gt; path=/ home=/ site=app everywhere=yes section=none shouted=HI! again=0</main>"
    )


@pytest.mark.parametrize("ending", [".html", ".htm", ".xml", ".xhtml", ".svg"])
def test_templating_autoescape_on_for_markup_files(tmp_path: Path, ending: str) -> None:
    app = make_app(tmp_path, {f"t{ending}": "<x>{{ v }}</x>"})
    assert rendered(app, f"t{ending}", v="<b>&'\"") == "<x>&lt;b&gt;&amp;&#39;&#34;</x>"


@pytest.mark.parametrize("ending", [".txt", ".j2", ".html.txt", ".css"])
def test_templating_autoescape_off_for_other_files(tmp_path: Path, ending: str) -> None:
    app = make_app(tmp_path, {f"t{ending}": "{{ v }}"})
    assert rendered(app, f"t{ending}", v="<b>&") == "<b>&"


def test_templating_render_template_string_autoescapes(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    assert rendered(app, "{{ v }} {{ v|safe }}", v="<i>") == "&lt;i&gt; <i>"


def test_templating_render_template_accepts_list_and_template(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"second.html": "second {{ n }}"})
    with app.test_request_context():
        assert render_template(["missing.html", "second.html"], n=2) == "second 2"
        assert render_template(app.jinja_env.get_template("second.html"), n=3) == "second 3"


def test_templating_outside_app_context_raises(tmp_path: Path) -> None:
    make_app(tmp_path, {"t.html": "x"})
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        render_template("t.html")
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        render_template_string("x")


# -- the context ------------------------------------------------------------------------


def test_templating_context_has_config_request_session_g_url_for(tmp_path: Path) -> None:
    app = make_app(tmp_path, {}, NAME="cfg")
    app.get("/page")(lambda: "page")
    with app.test_request_context("/page?q=1"):
        g.who = "me"
        source = (
            "{{ config.NAME }}|{{ request.path }}?{{ request.args.q }}|{{ session.get('k', 'none') }}"
            "|{{ g.who }}|{{ url_for('<lambda>') }}|{{ get_flashed_messages() }}"
        )
        assert render_template_string(source) == "cfg|/page?1|none|me|/page|[]"


def test_templating_context_values_depend_on_the_active_contexts(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    seen: list[dict[str, Any]] = []

    def record(sender: Any, template: Any, context: dict[str, Any]) -> None:
        seen.append(dict(context))

    with signals.template_rendered.connected_to(record, sender=app):
        with app.test_request_context("/x") as ctx:
            render_template_string("x")
        with app.app_context():
            g.x = "gx"
            assert render_template_string("{{ 'yes' if request else 'no' }}|{{ g.x }}") == "no|gx"
    assert seen[0]["request"] is ctx.request
    assert "session" in seen[0] and "g" in seen[0]
    assert "g" in seen[1]
    assert "request" not in seen[1] and "session" not in seen[1]


def test_templating_request_outside_request_context_explains(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    with app.app_context():
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            render_template_string("{{ request.path }}")


def test_templating_template_does_not_open_session_unless_used(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"t.html": "plain"})
    with app.test_request_context("/") as ctx:
        render_template("t.html")
        assert not ctx.session_opened
        render_template_string("{{ session.get('k') }}")
        assert ctx.session_opened


def test_templating_imported_macro_sees_request(tmp_path: Path) -> None:
    app = create_app()
    with app.test_request_context("/somewhere"):
        assert render_template_string('{% import "macros/forms.html" as forms %}{{ forms.here() }}') == "/somewhere"


def test_templating_keyword_arguments_win_over_processors(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})

    @app.context_processor
    def values() -> dict[str, Any]:
        return {"a": "processor", "b": "processor", "request": "processor"}

    with app.test_request_context("/"):
        assert render_template_string("{{ a }} {{ b }} {{ request }}", b="kwarg") == "processor kwarg processor"


# -- context processors ------------------------------------------------------------------


def test_templating_blueprint_processors_only_for_its_requests() -> None:
    client = validated_client(create_app())
    assert client.get("/admin/").text == "panel section=admin scope=admin site=app everywhere=yes blueprint=admin"
    # The admin blueprint's processor does not run for the app's own page.
    assert "section=none" in client.get("/").text


def test_templating_nested_blueprint_processors_outer_then_inner() -> None:
    client = validated_client(create_app())
    # app sets scope=app, admin scope=admin, admin.reports scope=admin.reports: the innermost wins.
    assert client.get("/admin/reports/").text == "report section=admin scope=admin.reports blueprint=admin.reports"


def test_templating_app_processors_run_in_registration_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    app.context_processor(lambda: {"v": "first", "w": "first"})
    app.context_processor(lambda: {"v": "second"})
    with app.app_context():
        assert render_template_string("{{ v }} {{ w }}") == "second first"


def test_templating_context_processor_after_first_request_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    app.freeze()
    with pytest.raises(RuntimeError, match="cannot register a context processor"):
        app.context_processor(lambda: {})


# -- filters, globals and tests ---------------------------------------------------------------


def test_templating_filters_globals_tests_all_spellings(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})

    @app.template_filter()
    def reverse(s: str) -> str:
        return s[::-1]

    @app.template_filter("double")
    def twice(s: str) -> str:
        return s * 2

    @app.template_filter
    def upper(s: str) -> str:
        return s.upper()

    @app.template_global()
    def answer() -> int:
        return 42

    @app.template_global("pi")
    def get_pi() -> float:
        return 3.14

    @app.template_test()
    def even(n: int) -> bool:
        return n % 2 == 0

    @app.template_test("large")
    def is_large(n: int) -> bool:
        return n > 100

    app.add_template_filter(lambda s: f"[{s}]", "boxed")
    app.add_template_global(lambda: "hi", "greet")
    app.add_template_test(lambda n: n == 0, "zero")

    source = (
        "{{ 'ab'|reverse }} {{ 'ab'|double }} {{ 'ab'|upper }} {{ answer() }} {{ pi() }}"
        " {{ 4 is even }} {{ 3 is even }} {{ 101 is large }} {{ 'x'|boxed }} {{ greet() }} {{ 0 is zero }}"
    )
    with app.app_context():
        assert render_template_string(source) == "ba abab AB 42 3.14 True False True [x] hi True"


def test_templating_filter_registered_after_env_made(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    env = app.jinja_env
    app.add_template_filter(str.title, "title_case")
    assert env.filters["title_case"] is str.title
    with app.app_context():
        assert render_template_string("{{ 'ab cd'|title_case }}") == "Ab Cd"


def test_templating_blueprint_app_template_registrations(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    bp = Blueprint("bp", __name__)

    @bp.app_template_filter()
    def stars(s: str) -> str:
        return f"*{s}*"

    @bp.app_template_global("site")
    def site_name() -> str:
        return "S"

    @bp.app_template_test
    def empty(s: str) -> bool:
        return not s

    bp.add_app_template_filter(str.lower, "low")
    bp.add_app_template_global(lambda: 7, "seven")
    bp.add_app_template_test(lambda s: s == "x", "ex")
    with app.app_context():
        with pytest.raises(jinja2.TemplateAssertionError, match="No filter named 'stars'"):
            render_template_string("{{ 'a'|stars }}")
    app.register_blueprint(bp)
    with app.app_context():
        assert render_template_string(
            "{{ 'a'|stars }} {{ site() }} {{ '' is empty }} {{ 'A'|low }} {{ seven() }} {{ 'x' is ex }}"
        ) == "*a* S True a 7 True"


def test_templating_filter_after_first_request_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    app.freeze()
    with pytest.raises(RuntimeError, match="cannot register a template filter"):
        app.add_template_filter(str.upper)


# -- the environment ------------------------------------------------------------------------


def test_templating_jinja_options_and_environment_class(tmp_path: Path) -> None:
    class MyEnvironment(Environment):
        pass

    class MyApp(App):
        jinja_options = {"line_statement_prefix": "%", "autoescape": False}
        jinja_environment = MyEnvironment

    app = MyApp("tests.templating_tmp", root_path=str(tmp_path))
    assert type(app.jinja_env) is MyEnvironment
    with app.app_context():
        assert render_template_string("% for i in [1, 2]\n{{ i }}<\n% endfor\n") == "1<\n2<\n"


# -- loaders -------------------------------------------------------------------------------------


def test_templating_app_templates_win_over_blueprints() -> None:
    client = validated_client(create_app())
    assert client.get("/shadow").text == "shadow from the app"
    assert client.get("/admin/shadow").text == "shadow from the app"


def test_templating_blueprints_searched_in_registration_order(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.html").write_text(f"from {folder}")
    (tmp_path / "two" / "only.html").write_text("only two")
    app = App("tests.templating_tmp", root_path=str(tmp_path))
    app.register_blueprint(Blueprint("b2", __name__, root_path=str(tmp_path), template_folder="two"))
    app.register_blueprint(Blueprint("b1", __name__, root_path=str(tmp_path), template_folder="one"))
    with app.app_context():
        assert render_template("t.html") == "from two"
        assert render_template("only.html") == "only two"
    assert app.jinja_env.list_templates() == ["only.html", "t.html"]


def test_templating_not_found_lists_what_was_searched(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"x.html": "x"})
    app.register_blueprint(Blueprint("bp", __name__, root_path=str(tmp_path), template_folder="bp_templates"))
    app.register_blueprint(Blueprint("plain", __name__, root_path=str(tmp_path)))
    expected = (
        f"template 'nope.html' not found; searched, in this order: {tmp_path}/templates (the application); "
        f"{tmp_path}/bp_templates (blueprint 'bp')"
    )
    with app.app_context():
        with pytest.raises(jinja2.TemplateNotFound, match="nope") as caught:
            render_template("nope.html")
    assert str(caught.value) == expected
    assert caught.value.name == "nope.html"


def test_templating_not_found_without_folders_says_what_to_do(tmp_path: Path) -> None:
    app = App("tests.templating_tmp", root_path=str(tmp_path), template_folder=None)
    with app.app_context():
        with pytest.raises(jinja2.TemplateNotFound, match="no template folder is set: pass template_folder="):
            render_template("t.html")


def test_templating_not_found_through_the_client_is_a_500(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    app.get("/")(lambda: render_template("missing.html"))
    app.testing = True
    with pytest.raises(jinja2.TemplateNotFound, match="template 'missing.html' not found; searched"):
        TestClient(app).get("/")


def test_templating_list_of_missing_templates_raises(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})
    with app.app_context():
        with pytest.raises(jinja2.TemplatesNotFound, match="a.html, b.html"):
            render_template(["a.html", "b.html"])


# -- signals ---------------------------------------------------------------------------------------


def test_templating_signals_before_and_after_render(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"t.html": "{{ x }}"})
    events: list[tuple[str, Any, str | None, Any]] = []

    def before(sender: Any, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("before", sender, template.name, context["x"]))

    def after(sender: Any, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("after", sender, template.name, context["x"]))

    with signals.before_render_template.connected_to(before), signals.template_rendered.connected_to(after):
        with app.test_request_context():
            assert render_template("t.html", x=1) == "1"
    assert events == [("before", app, "t.html", 1), ("after", app, "t.html", 1)]


# -- reloading -------------------------------------------------------------------------------------


def _edit(path: Path, text: str) -> None:
    """Rewrite ``path`` with a modification time surely different from before."""
    before = path.stat().st_mtime
    path.write_text(text)
    os.utime(path, (before + 10, before + 10))


@pytest.mark.parametrize(
    ("config", "reloads"),
    [
        pytest.param({"DEBUG": True}, True, id="debug"),
        pytest.param({"DEBUG": False}, False, id="production"),
        pytest.param({"DEBUG": False, "TEMPLATES_AUTO_RELOAD": True}, True, id="auto-reload-on"),
        pytest.param({"DEBUG": True, "TEMPLATES_AUTO_RELOAD": False}, False, id="auto-reload-off"),
    ],
)
def test_templating_reload_when_changed(tmp_path: Path, config: dict[str, Any], reloads: bool) -> None:
    app = make_app(tmp_path, {"t.html": "version 1"}, **config)
    app.get("/")(lambda: render_template("t.html"))
    client = validated_client(app)
    assert client.get("/").text == "version 1"
    _edit(tmp_path / "templates" / "t.html", "version 2")
    assert client.get("/").text == ("version 2" if reloads else "version 1")


def test_templating_debug_turned_on_after_first_render_reloads(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"t.html": "version 1"})
    assert rendered(app, "t.html") == "version 1"
    app.debug = True
    _edit(tmp_path / "templates" / "t.html", "version 2")
    assert rendered(app, "t.html") == "version 2"


def test_templating_explicit_auto_reload_option_wins(tmp_path: Path) -> None:
    class NoReload(App):
        jinja_options = {"auto_reload": False}

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.html").write_text("version 1")
    app = NoReload("tests.templating_tmp", root_path=str(tmp_path))
    app.debug = True
    assert app.jinja_env.auto_reload is False
    assert rendered(app, "t.html") == "version 1"
    _edit(tmp_path / "templates" / "t.html", "version 2")
    assert rendered(app, "t.html") == "version 1"


# -- streaming -------------------------------------------------------------------------------------


def test_templating_stream_template_reads_request_while_sent() -> None:
    client = validated_client(create_app())
    response = client.get("/stream?q=<q>")
    assert response.status == "200 OK"
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert response.header("Content-Length") is None
    assert response.text == (
        "<li>a&lt; &lt;q&gt; /stream</li>\n<li>b&amp; &lt;q&gt; /stream</li>\n<li>c &lt;q&gt; /stream</li>\n"
    )


def test_templating_stream_renders_lazily_and_signals_after_last_chunk(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"s.html": "{% for i in items %}{{ tick(i) }}{% endfor %}"})
    ticks: list[int] = []
    rendered_events: list[str] = []

    def tick(i: int) -> str:
        ticks.append(i)
        return str(i)

    def on_rendered(sender: Any, template: Any, context: Any) -> None:
        rendered_events.append("rendered")

    with signals.template_rendered.connected_to(on_rendered), app.test_request_context():
        chunks = stream_template("s.html", items=[1, 2, 3], tick=tick)
        assert ticks == []
        assert next(chunks) == "1"
        assert ticks == [1]
        assert rendered_events == []
        assert "".join(chunks) == "23"
        assert rendered_events == ["rendered"]
        assert "".join(stream_template_string("{{ v }}!", v="<s>")) == "&lt;s&gt;!"


def test_templating_stream_template_string_through_the_client(tmp_path: Path) -> None:
    app = make_app(tmp_path, {})

    @app.get("/s")
    def s() -> Iterator[str]:
        return stream_template_string("{% for c in 'ab' %}{{ c }}{{ request.args.n }}{% endfor %}")

    assert validated_client(app).get("/s?n=1").text == "a1b1"


@pytest.mark.live
def test_templating_live_server_renders_and_streams(live_server: Any) -> None:
    server = live_server("tests.apps.templated:app")
    page = requests.get(f"{server.url}/?user=ann", timeout=10)
    assert page.status_code == 200
    assert "user=ann path=/ home=/" in page.text
    streamed = requests.get(f"{server.url}/stream?q=live", timeout=10)
    assert streamed.status_code == 200
    assert streamed.headers.get("Transfer-Encoding") == "chunked"
    assert streamed.text == "<li>a&lt; live /stream</li>\n<li>b&amp; live /stream</li>\n<li>c live /stream</li>\n"
