"""The one exception type that ends a run with its message instead of a traceback, and other
exceptions told in one line."""


class BaselineError(Exception):
    """A problem with the user's data, configuration or files; the message says what to do."""


def describe(error):
    """An exception in one line: its type and its message."""
    text = " ".join(str(error).split())
    text = text if len(text) <= 400 else text[:400] + " ..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
