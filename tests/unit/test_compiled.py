"""The routing core runs from its mypyc build only while that build is of its sources."""

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

import services.router.core.decide
from shared.compiled import DIGEST, digest, is_compiled, search_path


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OMNIROUTE_INTERPRETED", raising=False)
    sources = tmp_path / "src" / "core"
    sources.mkdir(parents=True)
    (sources / "__init__.py").write_text("")
    (sources / "decide.py").write_text("def decide(): ...\n")
    return sources


def build(package: Path, compiled: Path) -> Path:
    built = compiled / "pkg" / "core"
    built.mkdir(parents=True)
    (built / DIGEST).write_text(digest(package) + "\n")
    return built


def test_a_current_build_comes_first(package: Path, tmp_path: Path) -> None:
    built = build(package, tmp_path / "compiled")
    path = search_path("pkg.core", [str(package)], compiled=tmp_path / "compiled")
    assert path == [str(built), str(package)]


def test_an_edited_module_runs_interpreted(package: Path, tmp_path: Path) -> None:
    build(package, tmp_path / "compiled")
    (package / "decide.py").write_text("def decide(): return 1\n")
    assert search_path("pkg.core", [str(package)], compiled=tmp_path / "compiled") == [str(package)]


def test_a_new_module_makes_the_build_stale(package: Path, tmp_path: Path) -> None:
    build(package, tmp_path / "compiled")
    (package / "state.py").write_text("")
    assert search_path("pkg.core", [str(package)], compiled=tmp_path / "compiled") == [str(package)]


def test_no_build_or_asked_not_to(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert search_path("pkg.core", [str(package)], compiled=tmp_path / "none") == [str(package)]
    build(package, tmp_path / "compiled")
    monkeypatch.setenv("OMNIROUTE_INTERPRETED", "1")
    assert search_path("pkg.core", [str(package)], compiled=tmp_path / "compiled") == [str(package)]


def compile_core() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "deploy" / "local" / "compile_core.py"
    spec = importlib.util.spec_from_file_location("compile_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_compiler_make_goes_on_with_the_core_interpreted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = compile_core()
    monkeypatch.setattr(script.shutil, "which", lambda _: None)
    monkeypatch.setattr(script, "COMPILED", tmp_path)
    assert script.main() == 0
    assert "no C compiler: the routing core runs interpreted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.environ.get("CI"), reason="a developer may run the tests interpreted")
def test_make_test_runs_the_compiled_core() -> None:
    # `make test` compiles the core first; a build that silently failed would leave the
    # router at about half its speed with every test still green.
    assert is_compiled(services.router.core.decide)
