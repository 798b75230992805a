"""The warning taxonomy: ids, groups, name resolution, suggestions, external labels, validation."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from forewarn.errors import TaxonomyError
from forewarn.taxonomy import (
    SEVERITIES,
    Taxonomy,
    WarningDef,
    load_taxonomy,
    normalize,
    severity_rank,
)

GROUPS = (
    "discrimination",
    "aggression",
    "abuse",
    "pregnancy",
    "medical",
    "mental-health",
    "sexual-content",
)
WARNINGS = {
    "discrimination": [
        "homophobia", "transphobia", "classism", "sexism", "misogyny", "racism",
        "religious-discrimination", "ableism", "body-shaming", "fatphobia",
    ],
    "aggression": [
        "violence", "war", "kidnapping", "death", "dying", "child-death", "animal-death",
    ],
    "abuse": ["abuse", "sexual-assault", "child-abuse", "animal-cruelty", "abusive-language"],
    "pregnancy": ["pregnancy", "miscarriage", "abortion", "childbirth"],
    "medical": ["blood-gore", "medical-procedures", "dissection", "vomiting"],
    "mental-health": [
        "body-dysmorphia", "eating-disorders", "self-harm", "suicide", "mental-illness",
        "addiction",
    ],
    "sexual-content": ["sexual-content", "incest", "underage"],
}  # fmt: skip
ALL_IDS = [wid for ids in WARNINGS.values() for wid in ids]


def data_dir() -> Path | None:
    """The shared reference data: $FOREWARN_DATA, else ../shared/data from the repo root."""
    env = os.environ.get("FOREWARN_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return path if path.is_dir() else None


def taxonomy_file(name: str) -> Path:
    base = data_dir()
    if base is None or not (base / "taxonomy" / name).is_file():
        pytest.skip(
            f"reference data taxonomy/{name} not found (set FOREWARN_DATA or put it at "
            "../shared/data); skipping the coverage check"
        )
    return base / "taxonomy" / name


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


def package_json() -> dict:
    path = Path(__file__).resolve().parents[1] / "src" / "forewarn" / "data" / "taxonomy.json"
    return json.loads(path.read_text("utf-8"))


# -- shape ---------------------------------------------------------------------------------


def test_groups_are_the_seven_wtwc_groups_in_order(tax):
    assert tuple(g.id for g in tax.groups) == GROUPS
    assert all(g.name and g.description for g in tax.groups)


def test_exactly_the_agreed_warning_ids_in_their_groups(tax):
    assert sorted(tax.ids) == sorted(ALL_IDS)
    assert len(tax) == len(ALL_IDS) == 39
    for group, ids in WARNINGS.items():
        assert [w.id for w in tax.in_group(group)] == ids
    assert all(isinstance(w, WarningDef) and w.name and w.description for w in tax)


def test_severities_are_ordered():
    assert SEVERITIES == ("mentioned", "depicted", "graphic")
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2]
    assert severity_rank("graphic") > severity_rank("mentioned")
    with pytest.raises(TaxonomyError, match='unknown severity "severe"'):
        severity_rank("severe")


def test_json_severities_match_the_constant():
    assert [s["id"] for s in package_json()["severities"]] == list(SEVERITIES)


def test_get_and_contains(tax):
    assert tax.get("miscarriage").group == "pregnancy"
    assert "self-harm" in tax and "self harm" not in tax
    with pytest.raises(KeyError):
        tax.get("pregnancy-loss")


def test_load_is_cached_and_fast():
    from forewarn import taxonomy as module

    assert load_taxonomy() is load_taxonomy()
    best = float("inf")
    for _ in range(3):
        module._default_taxonomy.cache_clear()
        start = time.perf_counter()
        load_taxonomy()
        best = min(best, time.perf_counter() - start)
    assert best < 0.020, f"load_taxonomy() took {best * 1000:.1f} ms"


# -- names and aliases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, wid",
    [
        ("miscarriage", "miscarriage"),
        ("Miscarriages", "miscarriage"),
        ("pregnancy loss", "miscarriage"),
        ("MC", "miscarriage"),
        ("stillbirth", "miscarriage"),
        ("losing a baby", "miscarriage"),
        ("Self_Harm", "self-harm"),
        ("SELF HARM", "self-harm"),
        ("selfharm", "self-harm"),
        ("sh", "self-harm"),
        ("cutting", "self-harm"),
        ("suicidal ideation", "suicide"),
        ("Suicide Attempts", "suicide"),
        ("ED", "eating-disorders"),
        ("anorexia", "eating-disorders"),
        ("Rape/Non-Con", "sexual-assault"),
        ("noncon", "sexual-assault"),
        ("dub-con", "sexual-assault"),
        ("SA", "sexual-assault"),
        ("emeto", "vomiting"),
        ("throwing up", "vomiting"),
        ("Blood & Gore", "blood-gore"),
        ("gore", "blood-gore"),
        ("overdose", "addiction"),
        ("alcoholism", "addiction"),
        ("pet death", "animal-death"),
        ("death of a child", "child-death"),
        ("infant death", "child-death"),
        ("Fat-Phobia", "fatphobia"),
        ("genocide", "war"),
        ("Major Character Death", "death"),
        ("Death of a child", "child-death"),  # display name
        ("Blood and gore", "blood-gore"),  # display name
        ("  Body Shaming ", "body-shaming"),
        ("autopsies", "dissection"),
        ("injuries", "blood-gore"),
    ],
)
def test_resolve(tax, name, wid):
    found = tax.resolve(name)
    assert found is not None, name
    assert found.id == wid


@pytest.mark.parametrize("name", ["", "  ", "fluff", "Star Wars", "sid", "pregnacy loss", "war s"])
def test_resolve_unknown_is_none(tax, name):
    assert tax.resolve(name) is None


def test_every_id_name_and_alias_resolves_to_its_own_warning(tax):
    for w in tax:
        for label in (w.id, w.name, *w.aliases):
            assert tax.resolve(label) is w, (label, w.id)


def test_aliases_never_collide_after_normalisation():
    seen: dict[str, str] = {}
    for w in package_json()["warnings"]:
        for label in (w["id"], w["name"], *w["aliases"]):
            for key in (normalize(label), normalize(label).replace(" ", "")):
                assert seen.setdefault(key, w["id"]) == w["id"], (
                    f'"{label}" names both {seen[key]} and {w["id"]}'
                )


def test_alias_counts_are_generous():
    warnings = package_json()["warnings"]
    assert sum(len(w["aliases"]) for w in warnings) >= 400
    assert all(len(w["aliases"]) >= 4 for w in warnings)


def test_normalize():
    assert normalize("Self_Harm") == normalize("self-harm") == "self harm"
    assert normalize("Blood & Gore") == "blood and gore"
    assert normalize("Miscarriages") == "miscarriage"
    assert normalize("injuries") == "injury"
    assert normalize("illness") == "illness"  # no plural 's' to strip
    assert normalize("psychosis") == "psychosis"
    assert normalize("wars") == "wars"  # short words keep their 's'


# -- strict resolution and suggestions -------------------------------------------------------


def test_resolve_strict_suggests_the_alias_that_was_misspelt(tax):
    with pytest.raises(TaxonomyError) as err:
        tax.resolve_strict("pregnacy loss")
    assert str(err.value) == (
        'unknown warning "pregnacy loss"; did you mean: miscarriage (pregnancy loss)?'
    )
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    "typo, suggestion",
    [("miscarrage", "miscarriage"), ("suicde", "suicide"), ("vomitting", "vomiting")],
)
def test_resolve_strict_suggests_ids(tax, typo, suggestion):
    with pytest.raises(TaxonomyError, match=rf"did you mean: {suggestion}\b"):
        tax.resolve_strict(typo)


def test_resolve_strict_without_close_match_lists_the_ids(tax):
    with pytest.raises(TaxonomyError) as err:
        tax.resolve_strict("xyzzy")
    message = str(err.value)
    assert message.startswith('unknown warning "xyzzy"; known warnings: ')
    assert all(wid in message for wid in ALL_IDS)
    with pytest.raises(TaxonomyError, match="empty warning name"):
        tax.resolve_strict("  ")


def test_parse_list(tax):
    assert [w.id for w in tax.parse_list("miscarriage, sh,blood")] == [
        "miscarriage",
        "self-harm",
        "blood-gore",
    ]
    assert [w.id for w in tax.parse_list("gore, blood,, ,Blood")] == ["blood-gore"]
    for nothing in ("", ",", " , "):  # a list naming no warning filters for nothing
        with pytest.raises(TaxonomyError, match="no warning named"):
            tax.parse_list(nothing)
    with pytest.raises(TaxonomyError, match='unknown warning "pregnacy loss"'):
        tax.parse_list("suicide, pregnacy loss")


# -- external label sets ---------------------------------------------------------------------


def test_pan23_and_wtwc_mappings(tax):
    assert [w.id for w in tax.from_pan23("abduction")] == ["kidnapping"]
    assert [w.id for w in tax.from_pan23("kidnapping")] == ["kidnapping"]
    assert [w.id for w in tax.from_pan23("miscarriages")] == ["miscarriage"]
    assert [w.id for w in tax.from_pan23("fat-phobia")] == ["fatphobia"]
    assert [w.id for w in tax.from_pan23("pornographic-content")] == ["sexual-content"]
    assert tax.from_pan23("no-such-label") == []
    assert [w.id for w in tax.from_wtwc("death")] == [
        "death",
        "dying",
        "child-death",
        "animal-death",
    ]
    assert [w.id for w in tax.from_wtwc("sexism")] == ["sexism", "misogyny"]
    assert [w.id for w in tax.from_wtwc("collective-violence")] == ["war"]
    assert tax.to_pan23("kidnapping") == ("kidnapping", "abduction")
    assert tax.to_pan23("war") == ("violence",)  # a war story is a violent one to PAN23
    assert tax.to_pan23("child-death") == ("death",)
    assert tax.to_pan23("abusive-language") == ()
    with pytest.raises(KeyError):
        tax.to_pan23("nope")


def test_every_wtwc_closed_label_is_covered(tax):
    labels = json.loads(taxonomy_file("tw-fine-closed.json").read_text("utf-8"))
    assert len(labels) == 29
    missing = [label for label in labels if not tax.from_wtwc(label)]
    assert not missing, f"WTWC-22 labels with no warning: {missing}"


def test_our_wtwc_labels_exist_and_sit_in_the_same_group(tax):
    fine_open = set(json.loads(taxonomy_file("tw-fine-open.json").read_text("utf-8")))
    to_coarse = json.loads(taxonomy_file("map-fine-to-coarse.json").read_text("utf-8"))
    coarse = json.loads(taxonomy_file("tw-coarse.json").read_text("utf-8"))
    assert tuple(coarse) == GROUPS
    for w in tax:
        assert w.wtwc, w.id
        for label in w.wtwc:
            assert label in fine_open, (w.id, label)
            assert to_coarse[label] == w.group, (w.id, label)


def test_every_pan23_label_is_covered(tax):
    path = taxonomy_file("pan23-labels-by-frequency.txt")
    labels = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(labels) == 32
    missing = [label for label in labels if not tax.from_pan23(label)]
    assert not missing, f"PAN23 labels with no warning: {missing}"
    ours = {label for w in tax for label in w.pan23}
    assert ours <= set(labels), ours - set(labels)


# -- AO3 archive warnings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, wid, severity",
    [
        ("Graphic Depictions Of Violence", "violence", "graphic"),
        ("graphic depictions of violence", "violence", "graphic"),
        ("Major Character Death", "death", None),
        ("Rape/Non-Con", "sexual-assault", None),
        ("Underage", "underage", None),
        ("Underage Sex", "underage", None),
    ],
)
def test_archive_warnings(tax, text, wid, severity):
    found = tax.ao3_archive_warning(text)
    assert found is not None
    warning, sev = found
    assert warning is not None and warning.id == wid
    assert sev == severity
    assert text.lower() in [t.lower() for t in warning.ao3]


@pytest.mark.parametrize(
    "text", ["No Archive Warnings Apply", "Creator Chose Not To Use Archive Warnings"]
)
def test_archive_warnings_that_declare_nothing_are_recognised(tax, text):
    assert tax.ao3_archive_warning(text) == (None, None)


@pytest.mark.parametrize("text", ["Fluff", "Violence", "Graphic Violence", ""])
def test_non_archive_warnings(tax, text):
    assert tax.ao3_archive_warning(text) is None


def test_ao3_lists_and_archive_map_agree():
    data = package_json()
    from_lists = {text: w["id"] for w in data["warnings"] for text in w["ao3"]}
    from_map = {
        text: entry["warning"]
        for text, entry in data["ao3_archive_warnings"].items()
        if entry is not None
    }
    assert from_lists == from_map


# -- validation ---------------------------------------------------------------------------------


def _write(tmp_path: Path, mutate) -> str:
    data = package_json()
    mutate(data)
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(data), "utf-8")
    return str(path)


def test_load_from_path(tmp_path):
    tax = load_taxonomy(_write(tmp_path, lambda d: None))
    assert tax is not load_taxonomy()
    assert tax.ids == load_taxonomy().ids


def test_unknown_group_is_rejected(tmp_path):
    def mutate(d):
        d["warnings"][0]["group"] = "prejudice"

    with pytest.raises(TaxonomyError, match='"homophobia" has unknown group "prejudice"'):
        load_taxonomy(_write(tmp_path, mutate))


def test_duplicate_id_is_rejected(tmp_path):
    def mutate(d):
        d["warnings"].append(dict(d["warnings"][0], aliases=[]))

    with pytest.raises(TaxonomyError, match='duplicate warning id "homophobia"'):
        load_taxonomy(_write(tmp_path, mutate))


def test_alias_naming_two_warnings_is_rejected(tmp_path):
    def mutate(d):
        d["warnings"][1]["aliases"].append("Homophobic")  # transphobia

    with pytest.raises(TaxonomyError, match='"Homophobic" is ambiguous'):
        load_taxonomy(_write(tmp_path, mutate))


def test_alias_listed_twice_is_rejected(tmp_path):
    def mutate(d):
        d["warnings"][0]["aliases"].append("Homophobic")

    with pytest.raises(TaxonomyError, match='lists alias "Homophobic" twice'):
        load_taxonomy(_write(tmp_path, mutate))


def test_archive_warning_to_unknown_warning_is_rejected(tmp_path):
    def mutate(d):
        d["ao3_archive_warnings"]["Major Character Death"]["warning"] = "dead"

    with pytest.raises(TaxonomyError, match='unknown warning "dead"'):
        load_taxonomy(_write(tmp_path, mutate))


def test_wrong_severities_are_rejected(tmp_path):
    def mutate(d):
        d["severities"] = d["severities"][::-1]

    with pytest.raises(TaxonomyError, match="severities must be"):
        load_taxonomy(_write(tmp_path, mutate))


def test_missing_field_is_rejected(tmp_path):
    def mutate(d):
        del d["warnings"][3]["name"]

    with pytest.raises(TaxonomyError, match="malformed taxonomy data"):
        load_taxonomy(_write(tmp_path, mutate))


def test_bad_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        load_taxonomy(str(bad))
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        load_taxonomy(str(tmp_path / "absent.json"))
