"""An app with click commands, for ``sluice --app`` and ``app.test_cli_runner()`` tests.

Teardown records what it received in ``teardowns`` and, when
``SLUICE_TEST_MARKERS`` names a file, appends a line to it (for subprocess
tests).
"""

from __future__ import annotations

import os
from typing import Any

import click

from sluice import App
from sluice import Blueprint
from sluice.ctx import current_app
from sluice.ctx import g

app = App(__name__)
teardowns: list[BaseException | None] = []


@app.teardown_appcontext
def _record_teardown(exc: BaseException | None) -> None:
    teardowns.append(exc)
    path = os.environ.get("SLUICE_TEST_MARKERS")
    if path:
        with open(path, "a") as f:
            f.write(f"teardown {exc!r} g.user={g.get('user')!r}\n")


@app.shell_context_processor
def _shell_names() -> dict[str, Any]:
    return {"answer": 42}


@app.get("/")
def index() -> str:
    return "index"


@app.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> str:
    return str(user_id)


@app.post("/about")
def about() -> str:
    return "about"


@app.get("/users/new")
def new_user() -> str:
    return "new"


@app.cli.command("hello")
@click.option("--name", default="world")
def hello(name: str) -> None:
    """Greet someone from inside the app context."""
    g.user = name
    click.echo(f"hello {name} from {current_app.import_name}")


@app.cli.command()
def fail() -> None:
    """Raise an error in user code."""
    g.user = "failing"
    raise RuntimeError("boom in a command")


@app.cli.command("exit-four")
@click.pass_context
def exit_four(ctx: click.Context) -> None:
    """End with exit status 4."""
    ctx.exit(4)


@app.cli.group()
def user_admin() -> None:
    """Manage users."""


@user_admin.command("create")
@click.argument("username")
def create_user(username: str) -> None:
    """Create a user."""
    click.echo(f"created {username} in {current_app.import_name}")


@click.command("plain")
def plain() -> None:
    """A plain click command: the app context comes from the group."""
    click.echo(f"plain sees {current_app.import_name}")


app.cli.add_command(plain)

admin = Blueprint("admin", __name__)


@admin.cli.command("reset")
def reset() -> None:
    """A blueprint command under the blueprint's name."""
    click.echo(f"reset {current_app.import_name}")


tools = Blueprint("tools", __name__, cli_group=None)


@tools.cli.command("tidy")
def tidy() -> None:
    """A blueprint command merged into the app's commands."""
    click.echo("tidy")


quiet = Blueprint("quiet", __name__)
app.register_blueprint(admin)
app.register_blueprint(tools)
app.register_blueprint(quiet)
