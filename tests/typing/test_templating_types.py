"""What mypy infers for template and flash code: the decorators keep the function's type.

The ``assert_type`` lines are checked by the suite's mypy run; the test also
runs them, so every line is valid at runtime too.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import assert_type

from sluice import flash
from sluice import get_flashed_messages
from sluice import render_template_string
from sluice import stream_template_string
from sluice import App
from sluice import Blueprint


def test_template_decorators_keep_function_types() -> None:
    app = App(__name__)
    bp = Blueprint("bp", __name__)

    @app.template_filter()
    def double(value: int) -> int:
        return value * 2

    @app.template_filter
    def triple(value: int) -> int:
        return value * 3

    @app.template_global("answer")
    def answer() -> int:
        return 42

    @app.template_test()
    def even(value: int) -> bool:
        return value % 2 == 0

    @app.context_processor
    def extra() -> dict[str, str]:
        return {"x": "y"}

    @bp.app_template_filter()
    def shout(value: str) -> str:
        return value.upper()

    @bp.context_processor
    def bp_extra() -> dict[str, int]:
        return {"n": 1}

    assert_type(double(value=1), int)
    assert_type(triple(value=1), int)
    assert_type(answer, Callable[[], int])
    assert_type(even(value=2), bool)
    assert_type(extra, Callable[[], dict[str, str]])
    assert_type(shout(value="a"), str)
    assert double(2) == 4 and triple(1) == 3 and answer() == 42 and even(2) and shout("a") == "A"
    assert extra() == {"x": "y"} and bp_extra() == {"n": 1}
    app.register_blueprint(bp)
    app.config["SECRET_KEY"] = "typing-secret-0123456789"
    with app.test_request_context("/"):
        assert_type(render_template_string("{{ 1|double }}"), str)
        assert_type(stream_template_string("x"), Iterator[str])
        flash("hi")
        messages = get_flashed_messages()
        assert_type(messages, list[str] | list[tuple[str, str]])
        assert messages == ["hi"]
