"""`forewarn batch --cluster`: the same results on a Dask cluster as in one local process.

Starts a real ``distributed.LocalCluster`` (2 worker processes, 1 thread each), runs the
batch against its scheduler address (files go to the workers as paths, JSONL rows as
text), and compares per work the warning ids, severities and confidences, and the
failures, with a local run. Skipped, with the reason, when Dask is not installed (failed
instead when ``FOREWARN_REQUIRE_DASK=1``, as CI sets it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_batch import check_consistent, make_folder, make_jsonl

from forewarn.cli import main


def _need_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        reason = "Dask is not installed (pip install -e '.[cluster]')"
        if os.environ.get("FOREWARN_REQUIRE_DASK") == "1":
            pytest.fail(f"FOREWARN_REQUIRE_DASK=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    _need_dask()
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as local:
        yield local


def results(db) -> dict[str, object]:
    conn = sqlite3.connect(db)
    out: dict[str, object] = {}
    for wid, status, kind in conn.execute("SELECT work_id, status, error_kind FROM works"):
        out[wid] = (status, kind, [])
    for wid, warning, severity, confidence in conn.execute(
            "SELECT work_id, warning, severity, confidence FROM work_warnings "
            "ORDER BY work_id, warning"):
        out[wid][2].append((warning, severity, confidence))  # type: ignore[index]
    conn.close()
    return out


def test_dask_results_equal_a_local_run(tmp_path, capsys, cluster):
    folder, jsonl = make_folder(tmp_path), make_jsonl(tmp_path)
    local, remote = tmp_path / "local.db", tmp_path / "dask.db"
    assert main(["batch", str(folder), str(jsonl), "--store", str(local), "-j", "1",
                 "-q"]) == 11
    capsys.readouterr()
    code = main(["batch", str(folder), str(jsonl), "--store", str(remote), "--cluster",
                 cluster.scheduler_address, "--chunk-size", "2", "-q", "--json"])
    out, err = capsys.readouterr()
    assert code == 11, err
    summary = json.loads(out)
    assert summary["mode"] == "dask" and summary["jobs"] == 2
    assert summary["scanned"] == 6 and summary["failed"] == 7
    check_consistent(remote)
    assert results(remote) == results(local)

    # Idempotent on the cluster too: nothing is sent again.
    code = main(["batch", str(folder), str(jsonl), "--store", str(remote), "--cluster",
                 cluster.scheduler_address, "-q", "--json"])
    again = json.loads(capsys.readouterr().out)
    assert code == 0 and again["skipped"] == 13 and again["scanned"] == 0


def test_unreachable_scheduler_is_one_line(tmp_path, capsys):
    _need_dask()
    (tmp_path / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["batch", str(tmp_path / "a.txt"), "--store", str(tmp_path / "r.db"),
                 "--cluster", f"tcp://127.0.0.1:{port}", "--cluster-timeout", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 12 and "cannot reach the Dask scheduler" in err
    assert err.count("\n") == 1


def test_an_address_without_its_port_is_one_line_at_once(tmp_path):
    # a traceback from a half-built Client's __del__, and 6 s of waiting (review 19, 14)
    _need_dask()
    (tmp_path / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    src = str(Path(__file__).resolve().parent.parent / "src")
    done = subprocess.run(
        [sys.executable, "-m", "forewarn", "batch", str(tmp_path / "a.txt"), "--store",
         str(tmp_path / "r.db"), "--cluster", "tcp://127.0.0.1", "--cluster-timeout", "3",
         "-q"], capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": src})
    err = done.stderr.decode()
    assert done.returncode == 12 and err.count("\n") == 1, err
    assert "not a Dask scheduler address (missing port number" in err
