"""The command line's exit codes, and the message for each error a person can cause.

Every command runs inside `explained`: an error a person can fix (a setting, a file, a busy
warehouse, a taken port) becomes one message naming the culprit and the documented exit code; an
unexpected one becomes a one-line report. The traceback is shown only with `tunelake --debug`
or `TUNELAKE_DEBUG=1`. The codes are the README's table.
"""

from __future__ import annotations

import errno
import os

from ingestion.errors import ConfigurationError, RunInProgressError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # click's own code for a wrong command line; also a query DuckDB cannot run
EXIT_CONFIGURATION = 3
EXIT_RATE_LIMITED = 4
EXIT_PARTIAL = 5
EXIT_LOCKED = 6  # another run holds the raw zone (ingestion.run_lock)

DEBUG_VARIABLE = "TUNELAKE_DEBUG"
HINT = f"Run again with `tunelake --debug ...` (or {DEBUG_VARIABLE}=1) to see the traceback."


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def explain(error: BaseException) -> tuple[int, str]:
    """The exit code and the message for `error`."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigValueCannotBeCoercedException
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    if isinstance(error, ConfigurationError):
        return EXIT_CONFIGURATION, f"Configuration error: {error}"
    if isinstance(error, RunInProgressError):
        return EXIT_LOCKED, f"Skipped: {error}"
    if isinstance(error, TomlProviderReadException):
        # dlt's message: "A problem encountered when loading <provider> from paths [...]:\n<tomlkit's reason>"
        reason = str(error).splitlines()[-1]
        path = next((os.path.abspath(p) for p in error.full_paths if os.path.isfile(p)), error.file_name)
        return EXIT_CONFIGURATION, f"Configuration error: {path} is not valid TOML: {reason}"
    if isinstance(error, ConfigFieldMissingException):
        missing = " and ".join(error.fields)
        return EXIT_CONFIGURATION, f"Configuration error: {missing} required ({error.spec_name})"
    if isinstance(error, ConfigValueCannotBeCoercedException):
        return EXIT_CONFIGURATION, f"Configuration error: {error.field_name}: {error.field_value!r} is not valid here"
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return EXIT_CONFIGURATION, f"Configuration error: the port is in use ({error.strerror}); choose another --port"
    # dlt wraps a step's failure ("Pipeline execution failed at step=load ..."): its cause says more.
    cause = getattr(error, "exception", None)
    step = getattr(error, "step", None)
    if isinstance(cause, BaseException) and step:
        code, message = explain(cause)
        return (code, message) if code != EXIT_FAILED else explain_cause(f"dlt's {step} step failed: ", cause)
    return explain_cause("", error)


def explain_cause(prefix: str, error: BaseException) -> tuple[int, str]:
    """An unexpected error in a line, secrets redacted."""
    # Imported here: the Spotify package costs a second of imports that a refused or
    # misconfigured run, which never reaches this line, should not pay.
    from ingestion.spotify.redaction import redact

    text = redact(str(error)).strip()
    first_line = text.splitlines()[0][:300] if text else ""
    return EXIT_FAILED, f"tunelake stopped on an unexpected error: {prefix}{type(error).__name__}: {first_line}\n{HINT}"
