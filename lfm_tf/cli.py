"""What every command-line entry shares: bad input is one line, not a traceback.

A flag absl cannot parse or does not know, a ValueError or FileNotFoundError
(what this package raises for bad input: missing folders, wrong layouts, unknown
names) and any OSError (a full disk, a read-only folder, a file where a folder
should be) ends the program with one `error: <message>` line on standard error,
naming the flag or the path and what to do, as the last line printed.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable

from absl import app, flags

# What to do about an operating-system failure, by errno.
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full: free space and run again (finished work is kept)",
    errno.EDQUOT: "the disk quota is exhausted: free space and run again (finished work is kept)",
    errno.EACCES: "permission denied: choose a location you may write to, or fix its permissions",
    errno.EPERM: "operation not permitted: choose a location you may write to",
    errno.EROFS: "the file system is read-only: choose another location",
    errno.EEXIST: "a file is in the way where a folder should be: choose another path or move it",
    errno.ENOTDIR: "a file is in the way where a folder should be: choose another path or move it",
    errno.EISDIR: "this is a folder, not a file: give a file path",
    errno.ENOENT: "no such file or folder: check the path",
}


def os_error_message(err: OSError) -> str:
    """One line for an OSError: the path(s) it names, what happened and what to do."""
    if err.errno is None or err.filename is None:
        return str(err)  # ours: the message already names the path and what to do
    paths = " -> ".join(os.fspath(p) for p in (err.filename, err.filename2) if p is not None)
    advice = _OS_ADVICE.get(err.errno, err.strerror or os.strerror(err.errno))
    return f"{paths}: {advice} ({err.strerror})"


def flag_error_message(err: flags.Error) -> str:
    """One line for a flag absl rejects, with the values the flag takes. A config
    file that raised while loading (ml_collections puts the whole traceback in the
    message) is named with its exception's last line only."""
    text = str(err)
    head, traceback_found, rest = text.partition("Traceback (most recent call last):")
    if traceback_found:
        text = head + rest.rstrip().splitlines()[-1]
    text = " ".join(text.split())
    match = re.match(r"flag --(\w+)=", text)
    if match and match.group(1) in flags.FLAGS:
        parser = flags.FLAGS[match.group(1)].parser
        allowed = getattr(parser, "enum_values", None)
        takes = f"one of {', '.join(allowed)}" if allowed else parser.syntactic_help
        if takes and takes not in text and not (allowed and "one of" in text):
            text += f" (--{match.group(1)} takes {takes})"
    return text


def _strict_parser(parser: Callable | None) -> Callable:
    """absl's own parser prints `FATAL Flags parsing error` and usage; let the
    error reach `run` instead, which prints it in one line."""
    return parser or (lambda argv: flags.FLAGS(argv))


def run(main: Callable, flags_parser: Callable | None = None, exit_code: int = 1) -> None:
    """`absl.app.run(main)`, printing a flag error, ValueError or OSError as one
    `error: <message>` line and exiting with `exit_code` (Ctrl-C: `error: interrupted`,
    exit status 130)."""
    try:
        app.run(main, flags_parser=_strict_parser(flags_parser))
    except flags.Error as err:
        _fail(flag_error_message(err), exit_code)
    except ValueError as err:
        _fail(str(err), exit_code)
    except OSError as err:
        _fail(os_error_message(err), exit_code)
    except KeyboardInterrupt:
        # Ctrl-C: what finished is on disk (a training run resumes from its folds).
        _fail("interrupted", 130)


def _fail(message: str, exit_code: int) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.stderr.flush()
    sys.exit(exit_code)
