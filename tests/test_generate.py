"""The generated files are what the catalogue says: the classes, the typed on(), the reference."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from codegen import generate
from codegen.catalogue import ENTITIES, snake
from superoffice_webhooks import events

ROOT = Path(__file__).resolve().parents[1]
FIX = "run `python -m codegen.generate` (or `make generate`) and commit the result"


@pytest.mark.parametrize(
    "relative",
    ["src/superoffice_webhooks/_generated_events.py", "src/superoffice_webhooks/_on.pyi"],
)
def test_generated_files_are_up_to_date(relative: str) -> None:
    """Each generated file equals what the generator writes from the catalogue now."""
    path = ROOT / relative
    expected = generate.targets(ROOT)[path]
    assert path.read_text(encoding="utf-8") == expected, f"{relative} is out of date: {FIX}"


def test_main_writes_nothing_when_up_to_date(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The generator, run in the repository, finds nothing to change."""
    monkeypatch.chdir(ROOT)
    assert generate.main() == 0
    assert capsys.readouterr().out == ""


def test_main_refuses_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run elsewhere, the generator writes nothing and says where to run it."""
    monkeypatch.chdir(tmp_path)
    assert generate.main() == 1
    assert list(tmp_path.iterdir()) == []


def test_every_catalogue_entry_has_its_classes() -> None:
    """Each entity of the catalogue has a base, a FieldValues class and a class per verb."""
    for entity in ENTITIES:
        base = getattr(events, f"{entity.prefix}Event")
        fields = getattr(events, f"{entity.prefix}FieldValues")
        assert {k.attr for k in entity.keys} == {
            a.name for a in attrs.fields(fields) if "wire" in a.metadata
        }
        for verb in entity.verbs:
            cls = getattr(events, entity.class_name(verb))
            assert issubclass(cls, base)
            if entity.family in ("fixed", "state"):
                assert events.EVENT_CLASSES[entity.event_name(verb)] is cls
                assert cls.event_name == entity.event_name(verb)
            else:
                assert cls.event_name is None
        if entity.deleted_values:
            values = getattr(events, f"{entity.prefix}DeletedValues")
            instance = values(dict.fromkeys(entity.deleted_values, 7))
            for key in entity.deleted_values:
                assert getattr(instance, key) == 7
                assert getattr(values({}), key) is None


def test_reference_tables_list_every_event_and_key() -> None:
    """The reference tables name every event class and every FieldValues key of the catalogue."""
    text = generate.render_docs()
    for entity in ENTITIES:
        for verb in entity.verbs:
            assert f"superoffice_webhooks.events.{entity.class_name(verb)}`" in text
        for key in entity.keys:
            assert f"`{key.wire}`" in text


def test_generated_docstrings_take_the_right_article() -> None:
    """Generated text says "an Activity" and "a Person"."""
    assert "an Activity delete event" in (events.ActivityDeletedValues.__doc__ or "")
    assert "a Person delete event" in (events.PersonDeletedValues.__doc__ or "")


@pytest.mark.parametrize(
    ("wire", "attr"),
    [
        ("activeInterests", "active_interests"),
        ("DeletedDate", "deleted_date"),
        ("reasonSold_id", "reason_sold_id"),
        ("ChatbotIsactive", "chatbot_isactive"),
        ("userdef2_id", "userdef2_id"),
    ],
)
def test_snake_case_attribute_names(wire: str, attr: str) -> None:
    """Attribute names are the snake_case of the wire names."""
    assert snake(wire) == attr


def test_module_run_rewrites_stale_and_missing_files(tmp_path: Path) -> None:
    """`python -m codegen.generate` writes each out-of-date or missing file, once."""
    package = tmp_path / "src" / "superoffice_webhooks"
    package.mkdir(parents=True)
    shutil.copytree(ROOT / "codegen", tmp_path / "codegen")
    (package / "_on.pyi").write_text(
        (ROOT / "src" / "superoffice_webhooks" / "_on.pyi")
        .read_text(encoding="utf-8")
        .replace("@overload", "@overload  # stale", 1),
        encoding="utf-8",
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codegen.generate"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    first, second = run(), run()

    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.splitlines()) == [
        "wrote src/superoffice_webhooks/_generated_events.py",
        "wrote src/superoffice_webhooks/_on.pyi",
    ]
    for path, text in generate.targets(ROOT).items():
        assert (tmp_path / path.relative_to(ROOT)).read_text(encoding="utf-8") == text
    assert (second.returncode, second.stdout) == (0, "")
