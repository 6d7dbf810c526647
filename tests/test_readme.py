"""The README as a newcomer reads it: its contents lead to sections, its links and picture exist, its
commands are typed as they would be after `make install`, and its spotipy example prints what it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Programs `make install` puts into .venv/bin and nowhere on PATH.
VENV_PROGRAMS = {"tunelake", "dbt", "mf", "pytest", "streamlit", "ruff", "mypy", "sqlfluff"}
EXAMPLE_MARKER = "<!-- tests/test_readme.py runs the next block as printed"
PICTURE_BUDGET = 300_000


def text() -> str:
    return README.read_text(encoding="utf-8")


def outside_code(markdown: str) -> list[str]:
    """The lines of `markdown` outside fenced code blocks (a `#` in a shell block is no heading)."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def code_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def headings(markdown: str) -> list[tuple[int, str]]:
    return [
        (len(match[1]), match[2])
        for line in outside_code(markdown)
        if (match := re.match(r"^(#{1,6}) (.+?)\s*$", line))
    ]


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; GitHub numbers repeated ones `-1`, `-2`, ..."""
    seen: dict[str, int] = {}
    found = set()
    for _, title in headings(markdown):
        base = slug(title)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def contents(markdown: str) -> list[tuple[str, str]]:
    """The (title, anchor) pairs listed under `## Contents`."""
    lines = outside_code(markdown)
    start = lines.index("## Contents") + 1
    section = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        section.extend(re.findall(r"^\s*- \[(.+)\]\(#([^)]+)\)$", line))
    return section


def test_the_first_screen_says_what_tunelake_is_shows_the_dashboard_and_the_two_commands():
    first_screen = "\n".join(text().splitlines()[:30])
    assert "Spotify analytics you can run yourself" in first_screen
    assert "](docs/images/dashboard.png)" in first_screen
    commands = code_blocks(first_screen + "\n", "bash")[0]
    assert [line.split()[:2] for line in commands.splitlines()] == [["make", "demo"], ["make", "dashboard-demo"]]
    assert "[Prerequisites](#prerequisites)" in first_screen


def test_every_contents_entry_leads_to_a_heading_under_its_own_title():
    readme = text()
    listed = contents(readme)
    assert len(listed) >= 10
    missing = [(title, target) for title, target in listed if target not in anchors(readme)]
    assert missing == []
    titles = {title for _, title in headings(readme)}
    assert [title for title, _ in listed if title not in titles] == []


def test_every_section_is_in_the_contents():
    readme = text()
    listed = {title for title, _ in contents(readme)}
    sections = [title for level, title in headings(readme) if level == 2 and title != "Contents"]
    assert [title for title in sections if title not in listed] == []


def test_every_link_inside_the_readme_leads_to_a_heading():
    readme = text()
    targets = re.findall(r"\]\(#([^)]+)\)", "\n".join(outside_code(readme)))
    assert targets
    assert sorted(set(targets) - anchors(readme)) == []


def test_every_file_the_readme_points_to_exists_and_the_picture_is_small():
    links = re.findall(r"\]\(([^)#:\s]+)\)", "\n".join(outside_code(text())))
    assert "docs/images/dashboard.png" in links
    assert [link for link in links if not (ROOT / link).exists()] == []
    picture = ROOT / "docs" / "images" / "dashboard.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size < PICTURE_BUDGET


def test_commands_are_written_as_a_newcomer_types_them_after_make_install():
    # `make install` leaves tunelake, dbt and the rest in .venv/bin, which is not on PATH.
    bare = []
    for block in code_blocks(text(), "bash"):
        for line in block.splitlines():
            command = line.split("  #")[0]
            for part in re.split(r"&&|\|\||;|\||\$\(", command):
                words = part.split()
                if words and words[0] in VENV_PROGRAMS:
                    bare.append(line)
    assert bare == []


def example_and_output(markdown: str) -> tuple[str, str]:
    """The README's spotipy example (the python block after the marker) and the text block after it."""
    after = markdown[markdown.index(EXAMPLE_MARKER) :]
    return code_blocks(after, "python")[0], code_blocks(after, "text")[0]


@pytest.fixture
def sandbox_command():
    """`tunelake sandbox` as the README starts it, with its defaults, on a free port; its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "sandbox", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        url = re.search(r" on (http://127\.0\.0\.1:\d+):", first_line)
        assert url, f"the sandbox did not say where it listens: {first_line!r}"
        yield url[1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_the_spotipy_example_runs_as_printed_and_prints_what_the_readme_says(sandbox_command, tmp_path):
    example, output = example_and_output(text())
    assert 'sp.prefix = f"{SANDBOX}/v1/"' in example
    ran = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env={**os.environ, "TUNELAKE_SANDBOX_URL": sandbox_command},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == output
    assert list(tmp_path.iterdir()) == [], "the example leaves no token cache behind"
