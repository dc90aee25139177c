"""Views of the Django fixture app."""

from __future__ import annotations

from django.http import HttpRequest
from django.http import HttpResponse
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.http import require_http_methods


@require_GET
def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello from Django\n", content_type="text/plain; charset=utf-8")


@require_GET
def json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"framework": "django", "name": request.GET.get("name", ""), "numbers": [1, 2, 3]})


@require_http_methods(["GET", "POST"])
def form(request: HttpRequest) -> HttpResponse:
    """GET renders the CSRF-protected form; POST echoes the ``message`` field."""
    message = request.POST.get("message") if request.method == "POST" else None
    return render(request, "echo/form.html", {"message": message})


@require_GET
def visits(request: HttpRequest) -> HttpResponse:
    """Count visits in the (signed-cookie) session."""
    count = int(request.session.get("visits", 0)) + 1
    request.session["visits"] = count
    return HttpResponse(f"visits={count}\n", content_type="text/plain; charset=utf-8")
