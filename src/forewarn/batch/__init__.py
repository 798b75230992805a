"""Batch scans of whole archives: corpus iteration, local and Dask runners, one writer.

A batch reads works from INPUTs (:class:`Corpus`: folders of story files, JSONL files of
``{"work_id": ..., "text": ...}`` objects, Parquet files with the same columns, or single
story files), skips those already in the store with the same content hash and model
version, scans the rest in parallel, and stores every result through the one process that
owns the store (:func:`run_batch`).

The pipeline, in the parent process:

1. iterate the corpus in blocks; for files, take the content hash from the file-hash cache
   when ``(path, size, mtime)`` is unchanged, otherwise read the bytes and hash them;
2. look the block's work ids up in the store and skip unchanged works (and unchanged
   failures, unless ``retry_failed``), so a re-run reads nothing it does not need;
3. send the rest, in chunks, to a runner: in-process (``jobs=1``), a process pool with one
   :class:`~forewarn.scanner.Scanner` per worker process (models loaded once per process),
   or a Dask cluster (one Scanner per Dask worker process, created lazily);
4. store each finished chunk in one transaction (each work with its warning rows), so a
   run killed at any moment can be started again and finishes with every work stored once.

Nothing from Dask is imported unless a cluster address is given.

Where each part lives (each module imports only those listed above it):

- :mod:`~forewarn.batch.hashing`: content hashes of bytes and text;
- :mod:`~forewarn.batch.corpus`: :class:`Corpus` and its items (folders, JSONL, Parquet,
  single files);
- :mod:`~forewarn.batch.tasks`: :class:`Task`, :class:`ScanConfig`, the model-version
  string, and the functions worker processes run (sent to them by module path);
- :mod:`~forewarn.batch.runners`: the in-process, process-pool and Dask runners, and
  :class:`ClusterError`;
- :mod:`~forewarn.batch.summary`: :class:`BatchSummary`, as JSON and as text;
- :mod:`~forewarn.batch.run`: :func:`run_batch`, the parent's side of a run (what to
  skip, the file-hash cache, storing results, Ctrl-C).
"""

from __future__ import annotations

from forewarn.batch.corpus import Corpus
from forewarn.batch.run import run_batch
from forewarn.batch.runners import ClusterError
from forewarn.batch.summary import BatchSummary
from forewarn.batch.tasks import ScanConfig, Task, expected_versions, model_version_string

__all__ = [
    "BatchSummary",
    "ClusterError",
    "Corpus",
    "ScanConfig",
    "Task",
    "expected_versions",
    "model_version_string",
    "run_batch",
]
