"""The one base class for bad input: the CLI prints these as a one-line error, never a traceback."""


class RoutegenError(ValueError):
    pass
