"""monai_jattn.errors: the root cause of a failed bundle command is printed last."""

import sys

from monai_jattn import errors
from monai_jattn.data import DatasetError


def chained(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]``, raised from ... the last: the outermost, with its chain and
    tracebacks, as nested ``raise ... from`` blocks leave it."""
    inner = None
    for error in reversed(errors):
        try:
            if inner is None:
                raise error
            raise error from inner
        except BaseException as caught:  # noqa: BLE001
            inner = caught
    return inner


def _wrapped() -> BaseException:
    return chained(
        RuntimeError("Failed to evaluate ConfigExpression"),
        RuntimeError("applying transform"),
        ValueError("/data/a.png: the problem"),
    )


def test_root_cause_follows_causes_and_contexts_but_not_suppressed_ones():
    assert str(errors.root_cause(_wrapped())) == "/data/a.png: the problem"
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise OSError("handling it")  # implicit context
    except OSError as error:
        assert isinstance(errors.root_cause(error), KeyError)
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise OSError("replaced") from None
    except OSError as error:
        assert errors.root_cause(error) is error
    lone = ValueError("alone")
    assert errors.root_cause(lone) is lone


def test_root_cause_is_the_projects_message_not_the_library_detail_inside_it():
    error = chained(
        RuntimeError("applying transform"),
        DatasetError("/data/imagesTr/a.nii.gz: cannot read the file"),
        EOFError("Compressed file ended before the end-of-stream marker was reached"),
    )
    assert str(errors.root_cause(error)) == "/data/imagesTr/a.nii.gz: cannot read the file"


def test_hook_prints_the_traceback_then_the_cause_last(monkeypatch, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    errors.show_cause_last()
    hook = sys.excepthook
    assert hook is not sys.__excepthook__
    errors.show_cause_last()
    assert sys.excepthook is hook  # once only
    error = _wrapped()
    hook(type(error), error, error.__traceback__)
    lines = capsys.readouterr().err.rstrip().splitlines()
    assert "RuntimeError: Failed to evaluate ConfigExpression" in lines
    assert lines[-2:] == ["The cause of the error above:", "ValueError: /data/a.png: the problem"]
    alone = KeyError("x")
    hook(KeyError, alone, None)
    assert capsys.readouterr().err.rstrip().splitlines()[-1] == "KeyError: 'x'"


def test_another_tools_hook_is_kept(monkeypatch):
    def theirs(*args):
        pass

    monkeypatch.setattr(sys, "excepthook", theirs)
    errors.show_cause_last()
    assert sys.excepthook is theirs
