"""Build the AWS Lambda artifact: `build/lambda/` (the SAM CodeUri) and `build/lambda.zip`.

    python lambda/build.py [--out build] [--arch arm64|x86_64] [--warehouse athena|snowflake]
                           [--dbt] [--no-zip] [--compare]

Steps: export the locked runtime requirements (`uv export --locked --no-dev`); install the
distributions the Lambda imports, at exactly those versions, as wheels for the Lambda's
platform (`uv pip install --target`); copy the handler and the ingestion package beside them;
trim what is never imported at run time; compile every module to bytecode; zip
deterministically; print the sizes against Lambda's limit.

The runtime is `python3.11`, which AWS runs on Amazon Linux 2 (glibc 2.26, libstdc++ of GCC 7),
so wheels must be manylinux2014 (glibc 2.17): uv has no `manylinux_2_26` target, and wheels
tagged `manylinux_2_28` do not load there. Every shared library in the artifact is checked
against glibc 2.26 after the install.

The zip carries ingestion into the S3 raw zone and one warehouse's load (the template's
`Warehouse`: Athena by default, `--warehouse snowflake`), for the architecture
lambda/template.yaml deploys (arm64: every wheel exists for it). With dbt it is over 250 MiB
unzipped even trimmed (`--compare` prints every combination), so `--dbt` builds
`build/lambda-dbt/`, the folder the container image of `lambda/Dockerfile` copies.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python lambda/build.py` from anywhere
from ingestion.engines import ENGINES  # noqa: E402

HANDLER = ROOT / "lambda" / "handler.py"
PYTHON_VERSION = "3.11"
# Lambda refuses a package whose files add up to more: "Unzipped size must be smaller than
# 262144000 bytes" (250 MiB; AWS writes "250 MB").
LIMIT_BYTES = 262_144_000
MIB = 1024 * 1024
# Lambda's names for the architectures, and the machine names of the wheels.
ARCHES = {"arm64": "aarch64", "x86_64": "x86_64"}
TEMPLATE = ROOT / "lambda" / "template.yaml"
# Where Lambda unpacks the code (and LAMBDA_TASK_ROOT of the base image): the path tracebacks show.
TASK_ROOT = "/var/task"
# Amazon Linux 2 (python3.11 runtime): glibc 2.26 and GCC 7's libstdc++ (GLIBCXX_3.4.24).
MANYLINUX = "manylinux2014"
MAX_GLIBC = (2, 26)
MAX_GLIBCXX = (3, 4, 24)
# Versions that differ from uv.lock because the locked one has no wheel that loads on the
# runtime. None today: pyproject.toml keeps pyarrow below 21 (21+ publishes manylinux_2_28 wheels
# only, whose libarrow.so needs GLIBC_2.28). The build refuses any difference not listed here.
RUNTIME_OVERRIDES: dict[str, str] = {}
# What the Lambda imports, by top-level requirement; versions always come from the lock.
# The handler imports ingestion.pipeline: dlt (filesystem destination on S3), spotipy, requests.
INGESTION_REQUIREMENTS = ("dlt[s3]", "spotipy", "requests")
# The warehouse load writes parquet (pyarrow) and uses dlt's destination for the warehouse, as
# each engine declares (ingestion/engines/). The handler reads its secrets with boto3: shipped,
# so the runtime's own boto3 (/var/runtime) never pairs with the botocore shipped here (the
# lock has boto3 with either warehouse's extra). DuckDB is a file on one machine: no Lambda.
WAREHOUSE_REQUIREMENTS = {name: e.load_requirements for name, e in ENGINES.items() if e.load_requirements}
DBT_REQUIREMENTS = {name: e.dbt_requirements for name, e in ENGINES.items() if name in WAREHOUSE_REQUIREMENTS}
# Development and test tools that must never ship.
DEV_DISTRIBUTIONS = ("pytest", "moto", "ruff", "sqlfluff", "selenium", "cfn-lint", "aws-sam-translator")
# The command line is for people, not for the handler; the sandbox is a package of its own,
# never copied. Nothing the handler reaches imports either, which the build checks.
INGESTION_EXCLUDED = ("cli.py", "__pycache__")
DBT_PROJECT_EXCLUDED = ("target", "logs", "dbt_packages", "profiles.yml", ".user.yml")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Flavor:
    """Which optional parts the artifact carries.

    Args:
        warehouse: `athena`, `snowflake`, or None for ingestion into the raw zone only.
        dbt: Whether dbt (core, the warehouse's adapter and the dbt project) ships too.
    """

    warehouse: str | None = "athena"
    dbt: bool = False

    def __post_init__(self) -> None:
        if self.warehouse not in (None, *WAREHOUSE_REQUIREMENTS):
            raise ValueError(f"unknown warehouse {self.warehouse!r}")
        if self.dbt and self.warehouse is None:
            raise ValueError("dbt needs a warehouse")

    @property
    def label(self) -> str:
        parts = ["ingestion" if self.warehouse else "ingestion only (baseline: no boto3, no warehouse load)"]
        if self.warehouse:
            parts.append(f"{self.warehouse} load")
        if self.dbt:
            parts.append(f"dbt-{self.warehouse}")
        return " + ".join(parts)

    @property
    def requirements(self) -> list[str]:
        requirements = list(INGESTION_REQUIREMENTS)
        if self.warehouse:
            requirements += WAREHOUSE_REQUIREMENTS[self.warehouse]
        if self.dbt:
            requirements += DBT_REQUIREMENTS[self.warehouse]
        return requirements

    @property
    def extras(self) -> list[str]:
        """The project's extras (pyproject.toml) whose locked versions the artifact uses."""
        return [self.warehouse] if self.warehouse else []


@dataclass
class Artifact:
    """A built Lambda package and its figures."""

    folder: Path
    zip_path: Path | None
    arch: str
    flavor: Flavor
    installed_bytes: int = 0
    trimmed_bytes: int = 0
    size_bytes: int = 0
    zip_bytes: int = 0
    distributions: dict[str, str] = field(default_factory=dict)
    deviations: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        return self.size_bytes < LIMIT_BYTES

    def summary(self) -> str:
        lines = [
            f"Lambda artifact ({self.flavor.label}; python{PYTHON_VERSION}, {self.arch}, {MANYLINUX}): {self.folder}",
            f"  unzipped: {self.size_bytes / MIB:7.1f} MiB of the {LIMIT_BYTES / MIB:.0f} MiB limit "
            f"({self.size_bytes / LIMIT_BYTES:.0%}){'' if self.fits else '  OVER THE LIMIT'}"
            + (" (for a zip; a container image may hold 10 GB)" if self.flavor.dbt else ""),
            f"    installed {self.installed_bytes / MIB:.1f} MiB, trimmed {self.trimmed_bytes / MIB:.1f} MiB, "
            f"then code and bytecode added",
        ]
        if self.zip_path:
            lines.append(f"  zipped:   {self.zip_bytes / MIB:7.1f} MiB  {self.zip_path}")
        for name, (locked, shipped) in sorted(self.deviations.items()):
            lines.append(f"  differs from uv.lock: {name} {shipped} (locked {locked}): no wheel for the runtime")
        lines.append("  " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items()))
        return "\n".join(lines)


class BuildError(RuntimeError):
    """The artifact cannot be built, or would not work on Lambda."""


def template_arch() -> str:
    """The architecture lambda/template.yaml deploys; arm64 when there is no template."""
    text = TEMPLATE.read_text() if TEMPLATE.exists() else ""
    found = re.findall(r"^\s*Architectures:\s*\[\s*(arm64|x86_64)\s*\]", text, re.MULTILINE)
    return found[0] if found else "arm64"


DEFAULT_ARCH = template_arch()


def normalize(name: str) -> str:
    """A distribution name in PEP 503 form (`Foo_bar` -> `foo-bar`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def find_uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if not found:
        raise BuildError("uv not found: run `make install`")
    return found


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command, raising BuildError with its output when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if result.returncode:
        raise BuildError(f"{' '.join(command[:4])} ... failed:\n{result.stdout}{result.stderr}")
    return result


def locked_requirements(flavor: Flavor, uv: str) -> dict[str, str]:
    """Name -> version of every runtime distribution uv.lock holds for the flavor's extras."""
    command = [uv, "export", "--locked", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header"]
    command += ["--no-annotate", "--directory", str(ROOT)]
    for extra in flavor.extras:
        command += ["--extra", extra]
    pins = {}
    for line in run(command).stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[normalize(match[1])] = match[2]
    return pins


def install(folder: Path, flavor: Flavor, arch: str, uv: str, work: Path) -> dict[str, str]:
    """Install the flavor's requirements at their locked versions into `folder`; return the lock."""
    pins = locked_requirements(flavor, uv)
    (work / "requirements.in").write_text("\n".join(flavor.requirements) + "\n")
    # Constraints pin every distribution to the lock; overrides replace a locked version.
    constraints = [f"{name}=={version}" for name, version in sorted(pins.items()) if name not in RUNTIME_OVERRIDES]
    (work / "constraints.txt").write_text("\n".join(constraints) + "\n")
    (work / "overrides.txt").write_text("".join(f"{n}=={v}\n" for n, v in RUNTIME_OVERRIDES.items()))
    command = [uv, "pip", "install", "--quiet", "--target", str(folder)]
    command += ["--python-platform", f"{ARCHES[arch]}-{MANYLINUX}", "--python-version", PYTHON_VERSION]
    command += ["--only-binary", ":all:", "--link-mode", "copy", "--no-compile-bytecode"]
    command += ["-r", str(work / "requirements.in"), "-c", str(work / "constraints.txt")]
    command += ["--override", str(work / "overrides.txt")]
    run(command)
    return pins


def installed_distributions(folder: Path) -> dict[str, str]:
    found = {}
    for info in folder.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        found[normalize(name)] = version
    return found


def check_against_lock(installed: dict[str, str], pins: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The deviations from the lock (only RUNTIME_OVERRIDES are allowed); BuildError otherwise."""
    deviations, problems = {}, []
    for name, version in sorted(installed.items()):
        if name not in pins:
            problems.append(f"{name} {version} is not in uv.lock")
        elif version != pins[name]:
            if RUNTIME_OVERRIDES.get(name) == version:
                deviations[name] = (pins[name], version)
            else:
                problems.append(f"{name} {version} differs from uv.lock ({pins[name]})")
    dev = sorted(set(installed) & {normalize(name) for name in DEV_DISTRIBUTIONS})
    if dev:
        problems.append(f"development tools in the artifact: {', '.join(dev)}")
    if problems:
        raise BuildError("the artifact does not match the lock:\n  " + "\n  ".join(problems))
    return deviations


def shared_libraries(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*.so*"):
        if path.is_file() and re.search(r"\.so(\.\d+)*$", path.name):
            yield path


def check_glibc(folder: Path) -> None:
    """Every shared library loads on Amazon Linux 2: no symbol versions newer than it has.

    A library names the versions it needs (`GLIBC_2.28`) as strings in its dynamic section.
    """
    problems = []
    for path in shared_libraries(folder):
        data = path.read_bytes()
        glibc = max((tuple(map(int, m)) for m in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)), default=(0, 0))
        glibcxx = max(
            (tuple(map(int, m)) for m in re.findall(rb"GLIBCXX_(\d+)\.(\d+)\.(\d+)", data)), default=(0, 0, 0)
        )
        if glibc > MAX_GLIBC or glibcxx > MAX_GLIBCXX:
            problems.append(
                f"{path.relative_to(folder)} needs GLIBC_{'.'.join(map(str, glibc))} / "
                f"GLIBCXX_{'.'.join(map(str, glibcxx))}"
            )
    if problems:
        raise BuildError("libraries that do not load on Amazon Linux 2:\n  " + "\n  ".join(problems))


def tree_bytes(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def trim_candidates(folder: Path) -> Iterator[Path]:
    """What the installed distributions carry that nothing imports at run time.

    dist-info folders stay: dlt, dbt and others read their versions with importlib.metadata.
    botocore's service models stay too: s3fs (aiobotocore), pyathena and dlt call several
    services, and the list is not worth guessing.
    """
    # Console scripts, with the build machine's interpreter in their shebangs.
    yield folder / "bin"
    arrow = folder / "pyarrow"
    if arrow.is_dir():
        # Headers, Cython sources and the C++ sources: only for building against pyarrow.
        yield from (arrow / name for name in ("include", "includes", "src", "tests"))
        yield from (p for pattern in ("*.pxd", "*.pyx", "*.pxi") for p in arrow.rglob(pattern))
        # Arrow Flight (RPC) and the C++ test module: nothing here uses them.
        yield from arrow.glob("*flight*")
        yield from arrow.glob("_pyarrow_cpp_tests*")
        # Wheels cannot hold symlinks, so each bundled library comes three times
        # (libX.so, libX.so.N, libX.so.N.M.P): the dynamic loader only opens the SONAME, libX.so.N.
        for library in arrow.glob("lib*.so*"):
            match = re.fullmatch(r"(lib.+\.so)(\.\d+)?(\.\d+\.\d+)?", library.name)
            if match and not match[2]:
                sonames = [p for p in arrow.glob(f"{match[1]}.*") if re.fullmatch(r".+\.so\.\d+", p.name)]
                if sonames:
                    yield library
            elif match and match[3] and (arrow / f"{match[1]}{match[2]}").exists():
                yield library
    # Third-party test suites (folders named tests or test holding test_*.py). dbt's own
    # `tests` folders hold SQL macros and are never touched.
    for directory in sorted(folder.rglob("test*")):
        if (
            directory.name in ("tests", "test")
            and directory.is_dir()
            and (directory.parent / "__init__.py").exists()
            and "dbt" not in directory.relative_to(folder).parts[:1]
            and any(directory.rglob("test_*.py"))
        ):
            yield directory


def trim(folder: Path) -> int:
    removed = 0
    for path in list(trim_candidates(folder)):
        if not (path.exists() or path.is_symlink()):
            continue
        removed += tree_bytes(path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed


def module_name(path: Path, package_root: Path) -> str:
    parts = list(path.relative_to(package_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: Path, module: str) -> set[str]:
    """Absolute names of every module `source` imports, anywhere in the file (also in functions)."""
    names = set()
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def check_ingestion_imports(folder: Path) -> None:
    """No shipped module imports a module of the ingestion package that was left out."""
    in_repo = {module_name(p, ROOT) for p in (ROOT / "ingestion").rglob("*.py")}
    shipped = {module_name(p, folder) for p in (folder / "ingestion").rglob("*.py")}
    missing = []
    for path in [folder / "handler.py", *(folder / "ingestion").rglob("*.py")]:
        name = "handler" if path.parent == folder else module_name(path, folder)
        missing += [f"{name} imports {m}" for m in imported_modules(path, name) & (in_repo - shipped)]
    if missing:
        raise BuildError("modules left out of the artifact are imported:\n  " + "\n  ".join(sorted(missing)))


def copy_code(folder: Path, flavor: Flavor) -> None:
    """The handler at the root (handler setting `handler.handler`), the ingestion package beside it."""
    shutil.copy2(HANDLER, folder / "handler.py")
    shutil.copytree(ROOT / "ingestion", folder / "ingestion", ignore=shutil.ignore_patterns(*INGESTION_EXCLUDED))
    check_ingestion_imports(folder)
    if flavor.dbt:
        # ingestion.transform finds the project beside the package (REPO_ROOT = parents[1]).
        # The code folder is read-only on Lambda, so the profile ships ready-made: the template
        # the Makefile copies (every secret from the environment), its default target the
        # warehouse whose adapter ships (the template's default, duckdb, has none here).
        project = folder / "dbt_project"
        shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns(*DBT_PROJECT_EXCLUDED))
        template = (ROOT / "profiles.example.yml").read_text()
        default_target = "env_var('TUNELAKE_TARGET', 'duckdb')"
        if default_target not in template:
            raise BuildError(f"profiles.example.yml no longer has {default_target}: update lambda/build.py")
        profile = template.replace(default_target, f"env_var('TUNELAKE_TARGET', '{flavor.warehouse}')")
        (project / "profiles.yml").write_text(profile)


def compile_bytecode(folder: Path) -> None:
    """Compile every module, so a cold start imports bytecode instead of compiling source.

    The code folder is read-only on Lambda: without shipped .pyc files every cold start
    compiles every module again (and cannot cache the result). `unchecked-hash` .pyc files
    are used without looking at the source at all: no mtime comparison (zip and deploy
    tools do not keep mtimes) and no hashing of the source at import. The artifact is never
    edited in place, so they cannot go stale. They are also reproducible (no timestamps).
    """
    if sys.version_info[:2] != tuple(map(int, PYTHON_VERSION.split("."))):
        raise BuildError(f"bytecode must be compiled by Python {PYTHON_VERSION}, not {platform.python_version()}")
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    # The paths inside the bytecode are those on Lambda, not this machine's: the same files
    # from any build folder (a reproducible zip), and tracebacks that name /var/task.
    command += ["-s", str(folder), "-p", TASK_ROOT]
    run([*command, str(folder)], env={**os.environ, "PYTHONHASHSEED": "0"})


def files_in_order(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())


def write_zip(folder: Path, zip_path: Path) -> None:
    """A deterministic zip: sorted entries, fixed timestamps, modes 0644 / 0755."""
    zip_path.unlink(missing_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files_in_order(folder):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)


def build(
    out: Path = ROOT / "build",
    arch: str = DEFAULT_ARCH,
    flavor: Flavor = Flavor(),  # frozen, so sharing the default is safe
    make_zip: bool = True,
    name: str = "lambda",
) -> Artifact:
    """Build `out/<name>/` and, unless `make_zip` is false, `out/<name>.zip`."""
    if arch not in ARCHES:
        raise BuildError(f"unknown architecture {arch!r}: one of {', '.join(ARCHES)}")
    out.mkdir(parents=True, exist_ok=True)
    folder = out / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    artifact = Artifact(folder, out / f"{name}.zip" if make_zip else None, arch, flavor)
    uv = find_uv()

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        pins = install(folder, flavor, arch, uv, Path(work))
    artifact.distributions = installed_distributions(folder)
    artifact.deviations = check_against_lock(artifact.distributions, pins)
    check_glibc(folder)
    artifact.installed_bytes = tree_bytes(folder)
    artifact.seconds["install"] = time.monotonic() - started

    started = time.monotonic()
    artifact.trimmed_bytes = trim(folder)
    copy_code(folder, flavor)
    compile_bytecode(folder)
    artifact.size_bytes = tree_bytes(folder)
    artifact.seconds["trim, copy, compile"] = time.monotonic() - started
    (out / f"{name}.requirements.txt").write_text(
        "".join(f"{n}=={v}\n" for n, v in sorted(artifact.distributions.items()))
    )

    if make_zip:
        started = time.monotonic()
        write_zip(folder, artifact.zip_path)
        artifact.zip_bytes = artifact.zip_path.stat().st_size
        artifact.seconds["zip"] = time.monotonic() - started
    return artifact


def host_arch() -> str | None:
    machine = platform.machine()
    return next((arch for arch, name in ARCHES.items() if name == machine or arch == machine), None)


def base_python() -> str:
    """This Python's base interpreter, outside any virtual environment."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{PYTHON_VERSION}"
    return str(candidate) if candidate.exists() else getattr(sys, "_base_executable", sys.executable)


def isolated_import_command(folder: Path, code: str = "import handler") -> list[str]:
    """A command that imports from `folder` and the standard library only, as Lambda would.

    `-I` ignores PYTHON* variables, the user's site-packages and the working folder; `-S`
    skips `site`, so no site-packages (of a virtual environment or the interpreter) are on
    the path: a distribution missing from the artifact fails the import. `-B` writes no
    bytecode (`-I` ignores PYTHONDONTWRITEBYTECODE), as in Lambda's read-only code folder.
    """
    return [base_python(), "-I", "-S", "-B", "-c", f"import sys; sys.path.insert(0, {str(folder)!r}); {code}"]


def check_import(folder: Path) -> None:
    """Import the handler from the artifact alone; every module must come from it or the stdlib."""
    code = (
        "import handler, sys, sysconfig; stdlib = sysconfig.get_paths()['stdlib']; "
        "print('\\n'.join(sorted(m.__file__ for m in list(sys.modules.values()) "
        f"if getattr(m, '__file__', None) and not m.__file__.startswith(({str(folder)!r}, stdlib)))))"
    )
    result = subprocess.run(  # noqa: S603
        isolated_import_command(folder, code),
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
        cwd=folder,
    )
    if result.returncode:
        raise BuildError(f"`import handler` fails in the artifact alone:\n{result.stderr[-3000:]}")
    if result.stdout.strip():
        raise BuildError(f"modules imported from outside the artifact:\n{result.stdout}")


def compare(out: Path, arch: str, flavors: Iterable[Flavor]) -> str:
    """Build every flavor (with zips) and tabulate their sizes."""
    lines = [
        f"| Artifact ({arch}, {MANYLINUX}) | Installed | Trimmed | With code + .pyc | Zipped | Fits 250 MiB |",
        "|---|---|---|---|---|---|",
    ]
    for index, flavor in enumerate(flavors):
        artifact = build(out, arch, flavor, make_zip=True, name=f"compare-{index}")
        lines.append(
            f"| {flavor.label} | {artifact.installed_bytes / MIB:.1f} MiB "
            f"| -{artifact.trimmed_bytes / MIB:.1f} MiB | {artifact.size_bytes / MIB:.1f} MiB "
            f"| {artifact.zip_bytes / MIB:.1f} MiB | {'yes' if artifact.fits else 'NO'} |"
        )
        shutil.rmtree(artifact.folder)
        artifact.zip_path.unlink()
        (out / f"compare-{index}.requirements.txt").unlink()
    return "\n".join(lines)


COMPARED = (
    Flavor(None),
    Flavor("athena"),
    Flavor("athena", dbt=True),
    Flavor("snowflake"),
    Flavor("snowflake", dbt=True),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="Build folder (default: build).")
    parser.add_argument(
        "--arch", choices=sorted(ARCHES), default=DEFAULT_ARCH, help=f"Default: the template's ({DEFAULT_ARCH})."
    )
    parser.add_argument(
        "--warehouse", choices=sorted(WAREHOUSE_REQUIREMENTS), default="athena", help="Warehouse load to ship."
    )
    parser.add_argument(
        "--dbt", action="store_true", help="Ship dbt and the dbt project: build/lambda-dbt/ for the container image."
    )
    parser.add_argument("--no-zip", action="store_true", help="Build the folder only.")
    parser.add_argument("--compare", action="store_true", help="Build every combination and tabulate the sizes.")
    arguments = parser.parse_args()
    try:
        if arguments.compare:
            print(compare(arguments.out, arguments.arch, COMPARED))
            return
        flavor = Flavor(arguments.warehouse, arguments.dbt)
        # Too big for a zip: the folder is what lambda/Dockerfile copies into the image.
        name, make_zip = ("lambda-dbt", False) if flavor.dbt else ("lambda", not arguments.no_zip)
        artifact = build(arguments.out, arguments.arch, flavor, make_zip=make_zip, name=name)
        if arguments.arch == host_arch():
            started = time.monotonic()
            check_import(artifact.folder)
            artifact.seconds["isolated import check"] = time.monotonic() - started
        print(artifact.summary())
        if arguments.arch != host_arch():
            print(f"  `import handler` not checked: this host is {platform.machine()} (the tests build x86_64)")
        if flavor.dbt:
            docker_platform = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}[arguments.arch]
            print(
                f"  container image: docker build --platform {docker_platform} -f lambda/Dockerfile {artifact.folder}"
            )
        elif not artifact.fits:
            raise BuildError("over Lambda's zip limit: ship it as a container image (lambda/Dockerfile)")
    except BuildError as error:
        sys.exit(f"lambda build failed: {error}")


if __name__ == "__main__":
    main()
