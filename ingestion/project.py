"""The tunelake project a command works in: the folder holding `.dlt/`, found from any folder inside it.

dlt reads `.dlt/config.toml` and `.dlt/secrets.toml` from the working directory, and the default
raw zone and warehouse (`data/...`) are relative paths: run from a subdirectory, a command would
silently start a second, empty raw zone there. So every command that reads the configuration
first moves to the project's folder, or refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.errors import ConfigurationError

# Names the project folder explicitly, for a project configured by the environment alone
# (a container, a scheduler, the tests): it need not hold `.dlt/`.
PROJECT_VARIABLE = "TUNELAKE_PROJECT_DIR"
CONFIG_FOLDER = ".dlt"


def find_project(start: Path) -> Path | None:
    """`start` or the nearest folder above it that holds `.dlt/`."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FOLDER).is_dir():
            return folder
    return None


def enter_project() -> Path:
    """Make the project's folder the working directory and return it.

    Raises:
        ConfigurationError: when no folder from here up holds `.dlt/` and TUNELAKE_PROJECT_DIR is
            not set, or names no folder.
    """
    given = os.environ.get(PROJECT_VARIABLE)
    if given:
        root = Path(given).expanduser()
        if not root.is_dir():
            raise ConfigurationError(f"{PROJECT_VARIABLE}: {given} is not a folder")
    else:
        here = Path.cwd()
        found = find_project(here)
        if found is None:
            raise ConfigurationError(
                f"no tunelake project here: neither {here} nor a folder above it holds {CONFIG_FOLDER}/. "
                f"Run tunelake inside your clone (the folder with {CONFIG_FOLDER}/config.toml), "
                f"or set {PROJECT_VARIABLE} to it"
            )
        root = found
    os.chdir(root)
    return root.resolve()
