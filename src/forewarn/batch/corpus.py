"""The works a batch reads: :class:`Corpus` over its INPUTs, and the items it yields.

INPUTs are folders of story files (walked in a stable order, hidden files skipped), JSONL
files of ``{"work_id": ..., "text": ...}`` objects, Parquet files with the same columns
(pyarrow, an optional dependency), or single story files. Each work comes out as a
:class:`FileItem` (read and hashed later), a :class:`TextItem` (text and content hash in
hand) or a :class:`BadItem` (a record that failed before scanning).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from forewarn.batch.hashing import sha256_bytes, sha256_text
from forewarn.errors import InputNotFound, InputTooLarge, MalformedInput, UnsupportedFormat
from forewarn.ingest import DEFAULT_MAX_BYTES, EXTENSIONS
from forewarn.store import MAX_KEY_BYTES, MissingDependency, _one_line, fits_key, key_form

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, slots=True)
class FileItem:
    """A story file, read and hashed by the batch (or by a Dask worker) when needed."""

    work_id: str
    path: str  # as given (joined with the folder); the report's source
    real_path: str  # absolute, for the hash cache and for Dask workers


@dataclass(frozen=True, slots=True)
class TextItem:
    """A story's text from a JSONL line or a Parquet row, with its content hash."""

    work_id: str
    source: str
    text: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class BadItem:
    """A work that failed before scanning (a JSONL line that isn't JSON, a missing field)."""

    work_id: str
    source: str
    content_hash: str
    kind: str
    message: str


Item = FileItem | TextItem | BadItem


@dataclass(frozen=True, slots=True)
class _Input:
    path: str
    kind: str  # folder | jsonl | parquet | file


# the longest JSONL line read: a story at the size limit, every character escaped twice over
LINE_LIMIT = 2 * DEFAULT_MAX_BYTES + (1 << 20)


class Corpus:
    """The works named by INPUTs, validated up front (missing inputs raise at once)."""

    def __init__(self, inputs: Sequence[str], *, id_field: str = "work_id",
                 text_field: str = "text") -> None:
        if not inputs:
            raise InputNotFound("batch: no INPUT given")
        self.id_field = id_field
        self.text_field = text_field
        self.inputs = [self._classify(p) for p in inputs]

    @staticmethod
    def _classify(path: str) -> _Input:
        if not os.path.exists(path):
            raise InputNotFound(f"{path}: no such file or folder")
        if os.path.isdir(path):
            if not os.access(path, os.R_OK | os.X_OK):
                raise InputNotFound(f"{path}: permission denied")
            return _Input(path, "folder")
        if not os.path.isfile(path):  # a FIFO, device or socket would hang or never end
            raise InputNotFound(f"{path}: not a regular file or folder")
        if not os.access(path, os.R_OK):
            raise InputNotFound(f"{path}: permission denied")
        lower = path.lower()
        if lower.endswith(JSONL_SUFFIXES):
            return _Input(path, "jsonl")
        if lower.endswith(PARQUET_SUFFIXES):
            _require_pyarrow()
            return _Input(path, "parquet")
        if os.path.splitext(lower)[1] in EXTENSIONS:
            return _Input(path, "file")
        raise UnsupportedFormat(
            f"{path}: not a folder, a JSONL (.jsonl) or Parquet (.parquet) file, or a story "
            f"file ({' '.join(sorted(EXTENSIONS))})")

    def count(self) -> int:
        """How many works (cheap: a folder walk, a line count, Parquet metadata)."""
        total = 0
        for inp in self.inputs:
            if inp.kind == "folder":
                total += sum(1 for _ in _walk(inp.path))
            elif inp.kind == "jsonl":
                total += _count_lines(inp.path)
            elif inp.kind == "parquet":
                total += _parquet_rows(inp.path)
            else:
                total += 1
        return total

    def __iter__(self) -> Iterator[Item]:
        for inp in self.inputs:
            if inp.kind == "folder":
                for rel in _walk(inp.path):
                    if isinstance(rel, FolderError):
                        where = os.path.join(inp.path, rel.rel)
                        # stored failed under a hash no content has: a re-run tries it again
                        yield BadItem(rel.rel.replace(os.sep, "/") + "/", where,
                                      sha256_text(f"unreadable:{where}"), InputNotFound.kind,
                                      f"{where}: a folder that cannot be read ({rel.reason}); "
                                      "the works in it are not scanned")
                        continue
                    path = os.path.join(inp.path, rel)
                    # a path too long to be a key in a store stands as its key_form
                    yield FileItem(key_form(rel.replace(os.sep, "/")), path,
                                   os.path.abspath(path))
            elif inp.kind == "jsonl":
                yield from self._jsonl(inp.path)
            elif inp.kind == "parquet":
                yield from self._parquet(inp.path)
            else:
                path = os.path.normpath(inp.path)
                yield FileItem(key_form(path.replace(os.sep, "/")), inp.path,
                               os.path.abspath(path))

    def _record(self, obj: Any, source: str, raw: bytes) -> Item:
        if not isinstance(obj, dict):
            return BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: not a JSON object")
        wid = obj.get(self.id_field)
        if wid is None or (isinstance(wid, str) and not wid.strip()) or isinstance(
                wid, (dict, list, bool)):
            return BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: no usable {self.id_field!r} field")
        wid = str(wid)
        if not fits_key(wid):
            # PostgreSQL cannot index a longer key (a 9,000-character id, and a 990-character
            # one of 3,464 bytes, ended the whole batch there): the line's place stands for it
            size = len(wid.encode("utf-8", "surrogatepass"))
            return BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: its {self.id_field!r} is {size:,} bytes long in UTF-8 "
                           f"(at most {MAX_KEY_BYTES:,})")
        text = obj.get(self.text_field)
        if not isinstance(text, str):
            what = "no" if text is None else "a non-string"
            return BadItem(wid, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: {what} {self.text_field!r} field")
        return TextItem(wid, source, text, sha256_text(text))

    def _jsonl(self, path: str) -> Iterator[Item]:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputNotFound(f"{path}: cannot open ({exc.strerror or exc})") from None
        with handle:
            for lineno, raw in enumerate(_lines(handle), 1):
                if raw is None:  # a line past LINE_LIMIT, skipped without being held
                    source = f"{path}:{lineno}"
                    yield BadItem(source, source, sha256_text(source), InputTooLarge.kind,
                                  f"{source}: a line of over {LINE_LIMIT // 2**20} MiB, too "
                                  "large for one work")
                    continue
                if not raw.strip():
                    continue
                source = f"{path}:{lineno}"
                if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a UTF-8 byte-order mark
                try:
                    obj = json.loads(raw)
                except RecursionError:
                    yield BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                                  f"{source}: not valid JSON (nested too deep)")
                    continue
                except (ValueError, UnicodeDecodeError) as exc:
                    reason = str(exc).splitlines()[0] if str(exc) else "invalid"
                    yield BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                                  f"{source}: not valid JSON ({reason})")
                    continue
                yield self._record(obj, source, raw)

    def _parquet(self, path: str) -> Iterator[Item]:
        pq = _require_pyarrow()
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several kinds
            raise MalformedInput(f"{path}: not a readable Parquet file ({exc})") from None
        names = set(parquet.schema_arrow.names)
        missing = [c for c in (self.id_field, self.text_field) if c not in names]
        if missing:
            raise MalformedInput(f"{path}: no column {', '.join(map(repr, missing))} "
                                 f"(columns: {', '.join(sorted(names))}; see --id-field, "
                                 "--text-field)")
        row = 0
        batches = parquet.iter_batches(batch_size=1024, columns=[self.id_field, self.text_field])
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as exc:  # a damaged page: the rows before it are stored
                raise MalformedInput(f"{path}: cannot read the rows after row {row} (a damaged "
                                     f"Parquet page: {_one_line(exc)})") from None
            ids = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            for wid, text in zip(ids, texts, strict=True):
                row += 1
                source = f"{path}:{row}"
                raw = json.dumps([str(wid), text], ensure_ascii=False).encode("utf-8",
                                                                              "surrogatepass")
                yield self._record({self.id_field: wid, self.text_field: text}, source, raw)


def _require_pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependency(
            "reading Parquet needs pyarrow: pip install 'forewarn[parquet]'") from None
    return pq


class FolderError(NamedTuple):
    """A folder under an INPUT that could not be listed: its works are unknown."""

    rel: str
    reason: str


def _walk(folder: str) -> Iterator[str | FolderError]:
    """Story files under ``folder`` (relative paths), in a stable order; hidden ones skipped.

    A linked folder is followed, once (a link back up the tree is not a loop forever); a
    folder that cannot be listed is given as a :class:`FolderError`, never passed over."""
    errors: list[OSError] = []
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(folder, onerror=errors.append, followlinks=True):
        while errors:
            error = errors.pop(0)
            where = error.filename if isinstance(error.filename, str) else root
            yield FolderError(os.path.relpath(where, folder),
                              error.strerror or type(error).__name__)
        try:
            st = os.stat(root)
        except OSError as exc:
            yield FolderError(os.path.relpath(root, folder), exc.strerror or "cannot read")
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # reached again through a link
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                yield os.path.relpath(os.path.join(root, name), folder)
    for error in errors:  # the top folder itself, or the last one listed
        where = error.filename if isinstance(error.filename, str) else folder
        yield FolderError(os.path.relpath(where, folder), error.strerror or type(error).__name__)


def _lines(handle: Any) -> Iterator[bytes | None]:
    """The lines of a binary file, each at most LINE_LIMIT bytes held at once: a longer one
    is read past in pieces and given as None."""
    while True:
        raw = handle.readline(LINE_LIMIT + 1)
        if not raw:
            return
        if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
            while True:
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield raw


def _count_lines(path: str) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in _lines(handle) if line is None or line.strip())
    except OSError as exc:
        raise InputNotFound(f"{path}: cannot read ({exc.strerror or exc})") from None


def _parquet_rows(path: str) -> int:
    pq = _require_pyarrow()
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:
        raise MalformedInput(f"{path}: not a readable Parquet file ({exc})") from None
