"""The sluice WSGI server: protocol, gateway, listeners and worker loop."""
