"""The pure routing core: no I/O, no clock, no randomness of its own.

`make` compiles it with mypyc (shared/compiled.py says when the build is used).
"""

from shared.compiled import search_path

__path__ = search_path(__name__, __path__)
