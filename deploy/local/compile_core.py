"""Compile the routing core with mypyc into .build/compiled (`make` runs this).

    .venv/bin/python deploy/local/compile_core.py

The core is plain, strictly typed Python; compiled, it makes about twice as many
decisions a second (bench/core_decisions.py). The build goes beside the sources,
never over them: services/router/core/__init__.py uses it only while it is of
the current sources (shared/compiled.py). Without a C compiler or Python's
headers the core runs interpreted; this says so and exits 0.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import setup

from shared.compiled import COMPILED, DIGEST, digest, modules

PACKAGE = "services.router.core"


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    sources = root.joinpath(*PACKAGE.split("."))
    compiler = shutil.which(sysconfig.get_config_var("CC").split()[0])
    headers = Path(sysconfig.get_paths()["include"], "Python.h").is_file()
    if compiler is None or not headers:
        missing = "C compiler" if compiler is None else "Python headers (python3-dev)"
        print(f"compile_core: no {missing}: the routing core runs interpreted", file=sys.stderr)
        return 0
    from mypyc.build import mypycify  # a dev dependency; imported only when compiling

    target = COMPILED.joinpath(*PACKAGE.split("."))
    shutil.rmtree(target, ignore_errors=True)
    stamp = digest(sources)  # of what is compiled: a later edit makes the build stale
    with tempfile.TemporaryDirectory(prefix="omniroute-mypyc-") as work:
        extensions = mypycify(
            [str(m.relative_to(root)) for m in modules(sources)],
            opt_level="3",
            # The runtime library goes into the package (not top level), so the
            # package's search path finds it with the modules.
            group_name=f"{PACKAGE}._mypyc",
            target_dir=work,
        )
        setup(
            name="omniroute-core",
            ext_modules=extensions,
            script_args=["-q", "build_ext", "--build-lib", str(COMPILED), "--build-temp", work],
        )
    (target / DIGEST).write_text(stamp + "\n")
    print(f"compile_core: {PACKAGE} compiled into {target.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
