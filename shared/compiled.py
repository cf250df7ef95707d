"""Run a package from its mypyc build when that build is of the current sources.

`make` compiles the routing core (services/router/core) with mypyc into
.build/compiled (deploy/local/compile_core.py) and writes there the digest of
the sources it compiled. The package's `__init__` puts that directory first on
its search path only while the digest matches its sources, so an edited module
never runs from a stale build: it runs interpreted until the next `make`.
OMNIROUTE_INTERPRETED=1 runs the sources even when a build is current (for a
debugger, or to compare).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

COMPILED = Path(__file__).resolve().parents[1] / ".build" / "compiled"
DIGEST = "sources.sha256"


def modules(package_dir: Path) -> list[Path]:
    """The package's modules that are compiled (its `__init__` stays interpreted)."""
    return sorted(p for p in package_dir.glob("*.py") if p.name != "__init__.py")


def digest(package_dir: Path) -> str:
    sha = hashlib.sha256()
    for module in modules(package_dir):
        sha.update(module.name.encode() + b"\0" + module.read_bytes() + b"\0")
    return sha.hexdigest()


def search_path(package: str, path: list[str], *, compiled: Path = COMPILED) -> list[str]:
    """`path` (a package's `__path__`), with the package's current build first if any."""
    built = compiled.joinpath(*package.split("."))
    stamp = built / DIGEST
    if os.environ.get("OMNIROUTE_INTERPRETED") or not stamp.is_file():
        return path
    if stamp.read_text().strip() != digest(Path(path[0])):
        return path
    return [str(built), *path]


def is_compiled(module: object) -> bool:
    return not str(getattr(module, "__file__", "")).endswith(".py")
