"""URL routing: rules with typed variables, matched and built by a compiled map."""

from __future__ import annotations

from sluice.routing.converters import DEFAULT_CONVERTERS as DEFAULT_CONVERTERS
from sluice.routing.converters import AnyConverter as AnyConverter
from sluice.routing.converters import BaseConverter as BaseConverter
from sluice.routing.converters import FloatConverter as FloatConverter
from sluice.routing.converters import IntegerConverter as IntegerConverter
from sluice.routing.converters import PathConverter as PathConverter
from sluice.routing.converters import StringConverter as StringConverter
from sluice.routing.converters import UUIDConverter as UUIDConverter
from sluice.routing.converters import parse_converter_args as parse_converter_args
from sluice.routing.errors import RequestRedirect as RequestRedirect
from sluice.routing.errors import ValidationError as ValidationError
from sluice.routing.router import Map as Map
from sluice.routing.rules import Rule as Rule
from sluice.routing.rules import Variable as Variable

__all__ = [
    # rules and the map
    "Map",
    "Rule",
    "Variable",
    # converters
    "DEFAULT_CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntegerConverter",
    "PathConverter",
    "StringConverter",
    "UUIDConverter",
    "parse_converter_args",
    # errors
    "RequestRedirect",
    "ValidationError",
]
