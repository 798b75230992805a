"""The service's response models (``forewarn.service.models``) describe the library's JSON.

The JSON a report, a verdict and an audit take is built once, by the library
(``Report.to_dict``, ``Verdict.to_dict``, ``Audit.to_dict``); the pydantic models only
describe it for ``/openapi.json``, and let clients keep working when a key is added, so
they allow extra keys. Here real outputs of the bundled example story are validated
against them in strict mode, with every key the models do not name refused and every
field they name present: a key added to, renamed in or dropped from the library's JSON
fails here until the models say the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pydantic", reason="the service models need pydantic (serve extra)")

from pydantic import BaseModel, ValidationError

from forewarn.profile import Profile
from forewarn.report import Report
from forewarn.scanner import Scanner
from forewarn.service import jobs
from forewarn.service.jobs import Job, WorkInput
from forewarn.service.models import AuditOut, CheckOut, ReportOut

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))
# found in the example: death (named), blood (aliased: a label only), suicide (allowed)
PROFILE = {"avoid": {"death": "mentioned", "addiction": "graphic",
                     "blood": {"severity": "mentioned", "alias": "the red thing"}}}


def _extra_keys(value: Any, path: str = "$") -> Iterator[str]:
    """Where a validated model holds a key its class does not name."""
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            yield f"{path}.{key}"
        for name in type(value).model_fields:
            yield from _extra_keys(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _extra_keys(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _extra_keys(item, f"{path}.{key}")


def _missing_fields(value: Any) -> set[str]:
    """``Model.field`` for each field a validated model was not given (its default used)."""
    out: set[str] = set()
    if isinstance(value, BaseModel):
        out |= {f"{type(value).__name__}.{name}" for name in type(value).model_fields
                if name not in value.model_fields_set}
        for name in type(value).model_fields:
            out |= _missing_fields(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            out |= _missing_fields(item)
    elif isinstance(value, dict):
        for item in value.values():
            out |= _missing_fields(item)
    return out


def conforms(model: type[BaseModel], data: dict[str, Any], *,
             may_omit: frozenset[str] = frozenset()) -> BaseModel:
    """``data`` validated against ``model`` strictly: no key the models do not name, and
    no field left out but those in ``may_omit`` (``"Model.field"``)."""
    validated = model.model_validate(data, strict=True)
    assert list(_extra_keys(validated)) == [], f"keys {model.__name__} does not describe"
    missing = _missing_fields(validated) - may_omit
    assert not missing, f"fields of {model.__name__} the output leaves out: {sorted(missing)}"
    return validated


@pytest.fixture(scope="module")
def reports() -> list[Report]:
    assert EXAMPLES, "the bundled example stories are missing"
    scanner = Scanner()
    return [scanner.scan(path) for path in EXAMPLES]


def test_the_examples_give_reports_with_warnings_evidence_and_declarations(reports):
    for report in reports:  # else the checks below would check empty lists only
        assert report.warnings and report.declared
        assert all(w.evidence and w.locations for w in report.warnings)
        assert report.coverage is not None and report.languages is not None


@pytest.mark.parametrize("evidence", [True, False], ids=["evidence", "spoiler-free"])
def test_report_to_dict_is_exactly_what_report_out_describes(reports, evidence):
    for report in reports:
        data = report.to_dict(evidence=evidence)
        may_omit = frozenset() if evidence else frozenset({"EvidenceOut.snippet"})
        validated = conforms(ReportOut, data, may_omit=may_omit)
        assert isinstance(validated, ReportOut)
        assert validated.model_dump(by_alias=True, exclude_unset=True) == data
        quoted = [e.snippet for w in validated.warnings for e in w.evidence]
        assert all(quoted) if evidence else quoted and not any(quoted)


def test_a_filtered_report_keeps_the_shape(reports):
    for report in reports:
        conforms(ReportOut, report.filtered(0.9, {"death", "blood-gore"}).to_dict(evidence=True))


@pytest.mark.parametrize("with_report", [False, True], ids=["verdict", "verdict+report"])
def test_the_check_answer_is_exactly_what_check_out_describes(with_report):
    profile = Profile.from_dict(PROFILE)
    for path in EXAMPLES:
        job = Job("check", WorkInput(text=path.read_text(encoding="utf-8")), 0.5,
                  profile=profile, with_report=with_report, evidence=True)
        _, data = jobs.run(job)
        # an aliased warning is named by its label only; the report is asked for
        may_omit = {"VerdictWarningOut.id", "VerdictWarningOut.name", "WeakWarningOut.id",
                    "WeakWarningOut.name"}
        if not with_report:
            may_omit.add("CheckOut.report")
        validated = conforms(CheckOut, data, may_omit=frozenset(may_omit))
        assert isinstance(validated, CheckOut)
        work = validated.works[0]
        assert {"the red thing", "Death"} <= {w.label for w in work.warnings}
        assert work.allowed and (validated.report is not None) == with_report


@pytest.mark.parametrize("evidence", [True, False], ids=["evidence", "spoiler-free"])
def test_the_audit_is_exactly_what_audit_out_describes(evidence):
    for path in EXAMPLES:
        job = Job("audit", WorkInput(text=path.read_text(encoding="utf-8")), 0.5,
                  evidence=evidence)
        _, data = jobs.run(job)
        conforms(AuditOut, data)


def test_the_check_catches_a_key_the_models_do_not_name(reports):
    data = reports[0].to_dict(evidence=True)
    data["warnings"][0]["evidence"][0]["new_key"] = 1
    with pytest.raises(AssertionError, match="does not describe"):
        conforms(ReportOut, data)


def test_the_check_catches_a_field_the_output_leaves_out(reports):
    data = reports[0].to_dict(evidence=True)
    del data["warnings"][0]["evidence"][0]["snippet"]  # a field with a default
    with pytest.raises(AssertionError, match="EvidenceOut.snippet"):
        conforms(ReportOut, data)


def test_the_check_is_strict_about_types(reports):
    data = reports[0].to_dict(evidence=True)
    data["word_count"] = str(data["word_count"])  # lax mode would take "581" for 581
    with pytest.raises(ValidationError):
        conforms(ReportOut, data)
