"""Example applications served by ``sluice serve``."""
