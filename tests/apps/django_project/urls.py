"""URL routes of the Django fixture project."""

from __future__ import annotations

from django.urls import path

from tests.apps.django_project.echo import views

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("json/", views.json_view, name="json"),
    path("form/", views.form, name="form"),
    path("visits/", views.visits, name="visits"),
]
