"""The cause of a failed bundle command as the last thing its user reads.

``python -m monai.bundle run`` evaluates every step of a config as a ``ConfigExpression``, and MONAI's
transforms wrap what they raise, so the last line of a failure is MONAI's wrapping ``RuntimeError``
("Failed to evaluate ConfigExpression ...", "applying transform <...>") while the message that names the
file and the problem is further up the traceback. The bundles install :func:`show_cause_last` first in
their ``initialize`` steps: the full traceback is printed as before, then the root cause once more.
"""

from __future__ import annotations

import sys
from types import TracebackType

__all__ = ["root_cause", "show_cause_last"]


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and the exceptions inside it, outermost first: the explicit cause (``raise ... from``) where
    there is one, else the exception being handled when it was raised (unless suppressed with ``from None``)."""
    chain = [error]
    while True:
        inner = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if inner is None or any(inner is seen for seen in chain):
            return chain
        chain.append(inner)
        error = inner


def root_cause(error: BaseException) -> BaseException:
    """What a user should read of ``error``: the innermost of its chain that this project raised (its message
    names the file or setting, while the exceptions inside it are a library's own details), else the
    innermost exception of the chain."""
    chain = _chain(error)
    ours = [e for e in chain if type(e).__module__.split(".")[0] == "monai_jattn"]
    return (ours or chain)[-1]


def _print_with_cause_last(
    exc_type: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    sys.__excepthook__(exc_type, error, traceback)
    cause = root_cause(error)
    if cause is not error:
        sys.stderr.write(f"\nThe cause of the error above:\n{type(cause).__name__}: {cause}\n")
        sys.stderr.flush()


def show_cause_last() -> None:
    """Make an uncaught exception end with its cause: the interpreter prints the whole traceback as usual,
    then, when the exception wraps another, ``The cause of the error above:`` and the `root_cause` with its
    message. Only the interpreter's default hook is replaced (never a hook another tool
    installed); calling it again changes nothing."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _print_with_cause_last
