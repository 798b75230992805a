"""The tag tables ship as package data, load, compile, and name only known warnings."""

from __future__ import annotations

import copy
import fnmatch
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from forewarn.declared import QUALIFIERS
from forewarn.declared.tables import build, load_raw, tables
from forewarn.taxonomy import load_taxonomy


def test_the_tables_load_once_and_are_not_empty():
    t = tables()
    assert t is tables()
    assert len(t.prefixes) > 150 and len(t.suffixes) > 50
    assert len(t.compound_rules) >= 4 and len(t.stem_rules) > 30
    assert {"blood", "war", "death"} <= t.no_tail
    assert {"sexual", "verbal"} <= t.modifiers
    assert "abusive" in t.typo_vocabulary


def test_every_warning_id_in_the_tables_is_in_the_taxonomy():
    known = {w.id for w in load_taxonomy()}
    raw = load_raw()
    named = {wid for rule in (*raw["compound"], *raw["stem"]) for wid in rule.get("warnings", ())}
    assert named, "the rules name no warning"
    assert named == tables().warning_ids()
    assert named - known == set()


def test_every_qualifier_in_the_tables_is_a_known_qualifier():
    raw = load_raw()
    names = {*raw["prefix"]["qualifiers"], *raw["suffix"]["qualifiers"], *raw["scan_qualifiers"]}
    assert names == set(QUALIFIERS)
    assert {q for _, q in (*tables().prefixes, *tables().suffixes)} == {None, *QUALIFIERS}


def test_classes_are_expanded_everywhere():
    t = tables()
    patterns = [p for p, _ in (*t.prefixes, *t.suffixes, *t.compound_rules, *t.stem_rules)]
    patterns += [t.child_sexual] + [p for _, p in t.scan_qualifiers]
    leftovers = [p.pattern for p in patterns if re.search(r"\{[a-z_]+\}", p.pattern)]
    assert leftovers == []
    # the compound rules are tried again among the stem rules, in the same order
    stems = [p.pattern for p, _ in t.stem_rules]
    compound = [p.pattern for p, _ in t.compound_rules]
    n = len(compound)
    assert any(stems[i : i + n] == compound for i in range(len(stems) - n + 1))


def test_an_unknown_class_is_refused():
    raw = copy.deepcopy(load_raw())
    raw["stem"][0] = {"pattern": r"\b{nonesuch}\b", "warnings": ["abuse"]}
    with pytest.raises(ValueError, match="unknown class"):
        build(raw)


def test_a_modified_copy_compiles_apart_from_the_shipped_tables():
    raw = copy.deepcopy(load_raw())
    raw["words"]["no_tail"].append("zeppelin")
    assert "zeppelin" in build(raw).no_tail
    assert "zeppelin" not in tables().no_tail


def test_the_tables_ship_in_the_wheel():
    assert resources.files("forewarn").joinpath("data/declared.toml").is_file()
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    globs = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["forewarn"]
    assert any(fnmatch.fnmatch("data/declared.toml", g) for g in globs)
