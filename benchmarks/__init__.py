"""Benchmark scripts and the WSGI apps they serve (not part of the sluice package)."""
