"""The WSGI application, warmed up before it is handed to the server (see ``yimatong.warmup``):
under gunicorn with ``preload_app`` once in the master, otherwise in each process as it loads."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yimatong.settings")
application = get_wsgi_application()

from yimatong import warmup  # noqa: E402 - Django is set up by the line above

warmup.warm_up()
