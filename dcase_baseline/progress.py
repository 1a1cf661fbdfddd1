"""Progress bars: tqdm's, drawn only where the output is a terminal (a file would keep every
redrawing), sized by the terminal, or 80 x 24 where it tells no size: on a pseudo-terminal
without one (script, some remote shells) tqdm would take the screen for 0 rows and hide the bar.
"""
import shutil

from tqdm import tqdm


def bar(iterable=None, **options):
    """tqdm(iterable, **options), on a terminal only (disable=True hides it anywhere)."""
    size = shutil.get_terminal_size()
    options.setdefault("disable", None)
    return tqdm(iterable, ncols=size.columns, nrows=size.lines, **options)
