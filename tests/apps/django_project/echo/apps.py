from __future__ import annotations

from django.apps import AppConfig


class EchoConfig(AppConfig):
    name = "tests.apps.django_project.echo"
    label = "echo"
