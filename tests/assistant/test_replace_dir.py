"""A model or snapshot folder is replaced whole, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant._artifacts import replace_dir


def test_the_new_folder_replaces_the_old_one_and_no_temporary_folder_stays(tmp_path: Path) -> None:
    out = tmp_path / "models" / "pricing"
    replace_dir(out, lambda d: (d / "config.json").write_text("1"))
    replace_dir(out, lambda d: (d / "config.json").write_text("2"))
    assert (out / "config.json").read_text() == "2"
    assert sorted(p.name for p in out.parent.iterdir()) == ["pricing"]


def test_a_failed_write_leaves_the_old_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "head"
    replace_dir(out, lambda d: (d / "config.json").write_text("good"))

    def broken(d: Path) -> None:
        (d / "config.json").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_dir(out, broken)
    assert (out / "config.json").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head"]
