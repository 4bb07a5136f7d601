"""The errors a user can cause, and how every stage reports them: one line, exit status 2.

A ParamsError is a value in params.yaml to fix, a DataError a file that is missing
or not what it should be; str() of either is the whole message, naming the file
and the key or fault. Nothing here imports TensorFlow.
"""

import contextlib
import sys


class ParamsError(Exception):
    """A value in params.yaml that the user must fix; str() is the whole message."""


class DataError(Exception):
    """Data that is missing or not what it should be; str() names the file and the fault."""


def fail(error):
    """Ends the program with the one-line message of a user error."""
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)


@contextlib.contextmanager
def refused_in_one_line():
    """Turns a ParamsError or DataError raised inside the block into fail(): one line, exit 2.

    Every stage reads and checks all it needs inside this block, before any long
    work, so a refusal leaves every earlier result as it was.
    """
    try:
        yield
    except (ParamsError, DataError) as error:
        fail(error)
