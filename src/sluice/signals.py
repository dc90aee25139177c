"""The framework's named signals, on ``blinker``.

Every signal is sent with the application as sender, as in Flask, so a
receiver can ``connect(fn, sender=app)`` to hear one app only. Connect with
``signal.connect(receiver)``; receivers take the sender first, then keyword
arguments that each signal's comment names.

PERF: senders check ``signal.receivers`` before ``send()``, so a signal
nobody listens to costs one attribute test (benchmarks/framework.py: the
static case went from 15.9 to 13.5 µs).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent when a request context was pushed, before any hook ran.
request_started = _signals.signal("request-started")
#: Sent with ``response=`` after the response was built, before it is sent.
request_finished = _signals.signal("request-finished")
#: Sent with ``exception=`` when an unhandled exception becomes a 500.
got_request_exception = _signals.signal("got-request-exception")
#: Sent with ``exc=`` when the request context is torn down.
request_tearing_down = _signals.signal("request-tearing-down")
#: Sent when an application context was pushed.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: Sent when an application context was popped.
appcontext_popped = _signals.signal("appcontext-popped")
#: Sent with ``exc=`` when the application context is torn down.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: Sent with ``response=`` when the server closed the response: after its
#: last byte was sent, or after the client went away.
response_closed = _signals.signal("response-closed")
#: Sent with ``template=`` and ``context=`` before a template is rendered
#: (a streamed one: before its first chunk).
before_render_template = _signals.signal("before-render-template")
#: Sent with ``template=`` and ``context=`` after a template was rendered
#: (a streamed one: after its last chunk).
template_rendered = _signals.signal("template-rendered")
#: Sent with ``message=`` and ``category=`` when a message was flashed.
message_flashed = _signals.signal("message-flashed")

__all__ = [
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "response_closed",
    "template_rendered",
]
