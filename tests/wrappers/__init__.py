"""Tests of sluice.wrappers."""
