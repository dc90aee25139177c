"""WSGI entry point: ``sluice serve tests.apps.django_project.wsgi:application``.

Django does not serve static files when DEBUG is off, so the Django WSGI app
is wrapped in ``StaticFilesHandler``, which answers ``STATIC_URL`` requests
from the staticfiles finders (as a ``FileResponse``, i.e. through
``wsgi.file_wrapper`` when the server offers it) and passes everything else on.
"""

from __future__ import annotations

import os

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.apps.django_project.settings")

application = StaticFilesHandler(get_wsgi_application())
