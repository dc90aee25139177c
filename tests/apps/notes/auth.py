"""Accounts: register, log in, log out, and ``g.user`` for every request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

from sluice import Blueprint
from sluice import Response
from sluice import current_app
from sluice import flash
from sluice import g
from sluice import redirect
from sluice import render_template
from sluice import request
from sluice import session
from sluice import url_for

from .db import get_db
from .passwords import check_password
from .passwords import hash_password

P = ParamSpec("P")
R = TypeVar("R")

MIN_PASSWORD_LENGTH = 8

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_logged_in_user() -> None:
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = get_db().execute("SELECT id, username FROM account WHERE id = ?", (user_id,)).fetchone()


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send visitors who are not logged in to the login page instead of ``view``."""

    @functools.wraps(view)
    def wrapped_view(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if g.user is None:
            flash("Log in to see your notes.", "info")
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapped_view


def create_account(username: str, password: str) -> bool:
    """Store a new account; False when the name is taken."""
    db = get_db()
    try:
        with db:
            db.execute(
                "INSERT INTO account (username, password_hash) VALUES (?, ?)",
                (username, hash_password(password, current_app.config["PASSWORD_ITERATIONS"])),
            )
    except db.IntegrityError:
        return False
    return True


@bp.route("/register", methods=("GET", "POST"))
def register() -> str | Response:
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        if not username:
            flash("Choose a username.", "error")
        elif len(password) < MIN_PASSWORD_LENGTH:
            flash(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", "error")
        elif not create_account(username, password):
            flash(f"The name {username} is taken.", "error")
        else:
            flash(f"Welcome, {username}! Log in to start writing.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login() -> str | Response:
    if request.method == "POST":
        username = request.form["username"].strip()
        account = get_db().execute("SELECT * FROM account WHERE username = ?", (username,)).fetchone()
        if account is None or not check_password(account["password_hash"], request.form["password"]):
            flash("Wrong username or password.", "error")
        else:
            session.clear()
            session["user_id"] = account["id"]
            return redirect(url_for("notes.index"))
    return render_template("auth/login.html")


@bp.route("/logout")
def logout() -> Response:
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("notes.index"))
