"""The results store on PostgreSQL: the same checks as on SQLite, and a batch run into it.

Needs psycopg 3 (the ``postgres`` extra) and a server. The server is the URL in
``FOREWARN_TEST_POSTGRES`` (e.g. ``postgresql://postgres:postgres@localhost:5432/postgres``)
or, without it, the first of a few local defaults that answers. Each test run creates a
fresh database ``forewarn_test_<random>`` there and drops it afterwards, so the role needs
CREATEDB. Skipped, with the reason, when psycopg is missing or no server answers (failed
instead when ``FOREWARN_REQUIRE_POSTGRES=1``, as CI sets it).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from test_store import check_atomic_write, check_store

from forewarn.cli import main
from forewarn.store import PostgresStore, open_store

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = (
    "postgresql://postgres@localhost/postgres",
    "postgresql://postgres:postgres@localhost/postgres",
    "postgresql:///postgres",
)


def _skip(reason: str) -> None:
    """Skip, or fail when CI says PostgreSQL must be there (FOREWARN_REQUIRE_POSTGRES=1)."""
    if os.environ.get("FOREWARN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"FOREWARN_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _server_url() -> str:
    try:
        import psycopg
    except ImportError:
        _skip("psycopg 3 is not installed (pip install -e '.[postgres]')")
    configured = os.environ.get("FOREWARN_TEST_POSTGRES")
    candidates = (configured,) if configured else CANDIDATES
    errors = []
    for url in candidates:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            errors.append(f"{url}: {str(exc).strip().splitlines()[-1]}")
    _skip("no PostgreSQL server reachable (set FOREWARN_TEST_POSTGRES to a URL); "
          + "; ".join(errors))
    raise AssertionError("unreachable")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@pytest.fixture(scope="module")
def server():
    return _server_url()


@pytest.fixture
def pg_url(server):
    import psycopg

    name = f"forewarn_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_store_round_trip(pg_url):
    with open_store(pg_url) as store:
        assert isinstance(store, PostgresStore)
        check_store(store)
    with open_store(pg_url, create=False) as store:  # reopened: the rows are there
        assert store.count_works() > 1000


def test_postgres_write_is_atomic(pg_url):
    with open_store(pg_url) as store:
        check_atomic_write(store)


def test_postgres_query_uses_the_index(pg_url):
    import psycopg

    with open_store(pg_url):
        pass
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = " ".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT work_id FROM work_warnings WHERE warning = 'violence' "
            "AND severity_rank >= 1 AND confidence >= 0.8"))
    assert "work_warnings_by_warning" in plan


def test_batch_into_postgres_then_rerun_skips(pg_url, tmp_path, capsys):
    stories = ROOT / "tests" / "fixtures" / "stories"
    jsonl = tmp_path / "works.jsonl"
    jsonl.write_text(
        json.dumps({"work_id": "w1", "text": (stories / "quiet-months.txt").read_text()})
        + "\nnot json\n", encoding="utf-8")
    code = main(["batch", str(jsonl), "--store", pg_url, "--jobs", "1", "-q", "--json"])
    out, err = capsys.readouterr()
    assert code == 11, err  # the bad line is a recorded failure
    summary = json.loads(out)
    assert summary["scanned"] == 1 and summary["failed"] == 1
    code = main(["batch", str(jsonl), "--store", pg_url, "--jobs", "1", "-q", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0 and json.loads(out)["skipped"] == 2
    code = main(["export", "--store", pg_url, "--warning", "miscarriage"])
    out, _ = capsys.readouterr()
    record = json.loads(out)
    assert record["work_id"] == "w1"
    assert "miscarriage" in [w["id"] for w in record["report"]["warnings"]]
    code = main(["stats", "--store", pg_url, "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert stats["works"] == 2 and stats["failures"] == {"malformed": 1}
    assert ":postgres@" not in stats["store"]  # a password is never printed


def test_odd_names_and_ids_are_stored_in_postgres_and_found_again(pg_url, tmp_path, capsys):
    # review 19: a file name that is not UTF-8 and a JSON id with a lone surrogate are stored
    # with the stray code points escaped, looked up the same way, so a re-run skips them
    # (tested on SQLite in test_batch.py; the same binding, here on PostgreSQL's driver,
    # which refuses a lone surrogate outright)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as handle:
        handle.write(b"He was stabbed and bled on the stairs.\n")
    lines = tmp_path / "works.jsonl"
    lines.write_text('{"work_id": "ok1", "text": "Tea."}\n'
                     '{"work_id": "bad\\ud800id", "text": "He drank."}\n', encoding="utf-8")
    for expected in ({"scanned": 4, "skipped": 0}, {"scanned": 0, "skipped": 4}):
        code = main(["batch", str(folder), str(lines), "--store", pg_url, "-j", "1", "-q",
                     "--json", "--lexicon-only"])
        out, err = capsys.readouterr()
        assert code == 0, err
        summary = json.loads(out)
        assert {k: summary[k] for k in expected} == expected
    code = main(["export", "--store", pg_url])
    ids = {json.loads(line)["work_id"] for line in capsys.readouterr().out.splitlines()}
    assert code == 0 and ids == {"a.txt", "caf\\udce9.txt", "ok1", "bad\\ud800id"}


def test_a_nul_in_a_work_id_is_stored_escaped_and_the_batch_goes_on(pg_url, tmp_path, capsys):
    # PostgreSQL's text refuses NUL: the failure record of a JSON line whose id held one
    # ended the whole batch ("cannot write", exit 8, nothing after it stored)
    lines = tmp_path / "works.jsonl"
    lines.write_text('{"work_id": "nul\\u0000id", "text": "Tea and\\u0000 cake."}\n'
                     '{"work_id": "ok", "text": "He was stabbed and bled on the stairs."}\n',
                     encoding="utf-8")
    code = main(["batch", str(lines), "--store", pg_url, "-j", "1", "-q", "--json",
                 "--lexicon-only"])
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert code == 11, err  # the NUL text is a recorded failure, not the end of the run
    assert summary["scanned"] == 1 and summary["failures"] == {"unsupported": 1}
    store = open_store(pg_url)
    try:
        assert set(store.lookup(["nul\x00id", "ok"])) == {"nul\x00id", "ok"}
    finally:
        store.close()


def test_a_work_id_too_long_to_index_is_a_failure_and_the_batch_goes_on(pg_url, tmp_path,
                                                                          capsys):
    # a random 9,000-character id ended the whole batch: "index row requires 9016 bytes"
    import random
    import string

    rng = random.Random(1)
    long_id = "".join(rng.choice(string.ascii_letters) for _ in range(9000))
    lines = tmp_path / "works.jsonl"
    lines.write_text(json.dumps({"work_id": long_id, "text": "He was stabbed."}) + "\n"
                     + json.dumps({"work_id": "ok", "text": "Tea."}) + "\n", encoding="utf-8")
    code = main(["batch", str(lines), "--store", pg_url, "-j", "1", "-q", "--json",
                 "--lexicon-only"])
    out, err = capsys.readouterr()
    assert code == 11, err
    assert json.loads(out)["failures"] == {"malformed": 1}
    assert "9,000 bytes long in UTF-8 (at most 1,000)" in err


def test_long_multibyte_ids_and_deep_paths_do_not_end_a_postgres_batch(pg_url, tmp_path,
                                                                         capsys):
    # review 20: a 990-character id of 3,464 bytes, and a folder path of 3,142 bytes (the
    # file-hash cache's key), each ended the whole batch: index rows over 2,704 bytes
    lines = tmp_path / "works.jsonl"
    lines.write_text(json.dumps({"work_id": "\u6f22\U0001f600" * 495, "text": "Tea."},
                                ensure_ascii=False) + "\n"
                     + json.dumps({"work_id": "ok", "text": "Cake."}) + "\n", encoding="utf-8")
    folder = tmp_path / "archive"
    deep = folder.joinpath(*["\u6df1\u3044\u68ee\u306e\u5965" * 12] * 4)  # 4 x 180 bytes
    deep = deep.joinpath(*["\u6df1\u3044\u68ee\u306e\u5965" * 12] * 4)
    deep.mkdir(parents=True)
    (deep / "story.txt").write_text("She made tea.\n", encoding="utf-8")
    (folder / "a.txt").write_text("He was stabbed.\n", encoding="utf-8")
    for exit_code, expected in ((11, {"scanned": 3, "skipped": 0}),
                                (0, {"scanned": 0, "skipped": 4})):
        code = main(["batch", str(lines), str(folder), "--store", pg_url, "-j", "1", "-q",
                     "--json", "--lexicon-only"])
        out, err = capsys.readouterr()
        assert code == exit_code, err  # the id over 1,000 bytes is a malformed failure
        summary = json.loads(out)
        assert {k: summary[k] for k in expected} == expected, summary
    code = main(["export", "--store", pg_url])
    ids = [json.loads(line)["work_id"] for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(ids) == 4 and "a.txt" in ids and "ok" in ids
    assert max(len(i.encode("utf-8")) for i in ids) <= 1000
