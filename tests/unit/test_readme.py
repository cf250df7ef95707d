"""The README documents every setting the code reads."""

from pathlib import Path

from shared.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"OMNIROUTE_{name.upper()}"
        for name in Settings.model_fields
        if f"| `OMNIROUTE_{name.upper()}` |" not in README
    ]
    assert missing == []
