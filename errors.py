"""The one exception type that ends a run with its message instead of a traceback."""


class BaselineError(Exception):
    """A problem with the user's data, configuration or files; the message says what to do."""
