"""The annotation tool: draw the sample, export batches for annotators, import and check labels.

Labels are judgements made by a person (or a helper session) reading each passage against
``docs/annotation-guide.md``; nothing here produces a label. The tool only decides *which*
passages are read, shows them with their context, and checks what comes back.

Steps::

    python training/annotate.py pointers      # where today's detectors and keyword lists point
    python training/annotate.py sample        # draw the corpus sample (sample.jsonl)
    python training/annotate.py export b001   # a batch for an annotator (text from ../shared/data)
    python training/annotate.py import b001 FILE --annotator NAME [--round 1]
    python training/annotate.py progress      # passages labelled, per stratum and source
    python training/annotate.py validate      # every label file against the taxonomy and splits

Files under ``training/annotations/``:

* ``sample.jsonl``: one line per sampled corpus passage: ``id`` (``book:start-end``),
  ``stratum`` (``random``, ``pointed``, ``scene``), ``drawn`` (how: e.g. ``"lexicon:death:0.82"``),
  ``queue`` (its place in the annotation order);
* ``labels/*.jsonl``: imported labels, one file per batch and round;
* ``splits.json``: train/dev/test books and modern writing batches, fixed before training;
* ``work/`` (not committed): pointer data and exported batch files that contain text.

Batch files show the passage text and, as context only, the end of the passage before and
the start of the passage after. They never show detector output or the stratum.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import (
    ANNOTATIONS,
    DEFAULT_DATA,
    MODERN_DIR,
    all_books,
    book_passages,
    book_text,
    load_splits,
    lookup,
    neighbours,
    parse_id,
    split_of_passage,
)

from forewarn.taxonomy import load_taxonomy

GUIDE_VERSION = "1.0"
SEVERITIES = ("mentioned", "depicted", "graphic")
FLAGS = ("needs_context", "not_story", "not_english", "unsure")
WORK = ANNOTATIONS / "work"
SAMPLE_FILE = ANNOTATIONS / "sample.jsonl"
LABELS_DIR = ANNOTATIONS / "labels"
POINTERS_FILE = WORK / "pointers.jsonl.gz"
SEED = 20261206
CONTEXT_WORDS = 60

# How many corpus passages each stratum draws (issue: >= 6,000 random, >= 10,000 pointed).
N_RANDOM = 6000
N_POINTED = 10000
N_SCENE = 4400
BATCH_SIZE = 100

# Keyword lists of ../shared/data/keywords mapped onto taxonomy ids.
_KEYWORD_TRIGGERS = {
    "Abuse": "abuse", "Sexual-abuse": "sexual-assault", "Animal-abuse": "animal-cruelty",
    "Child-abuse": "child-abuse", "Ableism": "ableism", "Classism": "classism",
    "Homophobia/ Heterosexism": "homophobia", "Sexism/ Misogyny": "misogyny", "Racism": "racism",
    "Religious Discrimination": "religious-discrimination", "Transphobia": "transphobia",
    "Body-Shaming": "body-shaming", "Incest": "incest", "Pornographic-content": "sexual-content",
    "Pregnancy-childbirth": "pregnancy", "Miscarriage": "miscarriage", "Abortion": "abortion",
    "Procedures": "medical-procedures", "Blood-gore": "blood-gore", "Violence": "violence",
    "Kidnapping/ Abduction": "kidnapping", "War": "war",
    "Death, animal death, other death, dying": "death",
}
_ANNO_KEYWORDS = {"abduction": "kidnapping"}


def warning_ids() -> list[str]:
    return [w.id for w in load_taxonomy().warnings]


# ---------------------------------------------------------------- pointers


def keyword_patterns(data: Path) -> dict[str, re.Pattern[str]]:
    phrases: dict[str, set[str]] = defaultdict(set)
    kw = data / "keywords"
    for path in sorted(kw.glob("*.json")):
        content = json.loads(path.read_text(encoding="utf-8"))
        if path.name == "anno-keywords.json":
            for trigger, entry in content.items():
                wid = _ANNO_KEYWORDS.get(trigger, trigger)
                phrases[wid].update(entry.get("phrases", []))
            continue
        for entry in content:
            wid = _KEYWORD_TRIGGERS.get(entry["trigger"])
            if wid:
                phrases[wid].update(entry.get("phrases", []))
                phrases[wid].update(entry.get("cleaned_up_phrases", []))
    out = {}
    for wid, words in phrases.items():
        words = sorted({w.strip().lower() for w in words if len(w.strip()) >= 3}, key=len)
        if words:
            alt = "|".join(re.escape(w) for w in reversed(words))
            out[wid] = re.compile(rf"\b(?:{alt})\w{{0,3}}\b", re.IGNORECASE)
    return out


def cmd_pointers(args: argparse.Namespace) -> None:
    """Where the shipped detectors (any score) and the keyword lists point, per passage."""
    from forewarn.ingest.text import parse_text
    from forewarn.scanner import default_detectors
    from forewarn.segment import segment

    data = Path(args.data)
    patterns = keyword_patterns(data)
    detectors = default_detectors()
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with gzip.open(POINTERS_FILE, "wt", encoding="utf-8") as out:
        for book in all_books(data):
            text = book_text(book, data)
            work = parse_text(text, source=f"{book}.txt")
            passages = segment(work)
            ids = [p.id for p in book_passages(book, data)]
            assert len(ids) == len(passages)
            found: dict[int, dict[str, float]] = defaultdict(dict)
            for det in detectors:
                for h in det.detect(passages):
                    key = f"{det.name}:{h.warning}"
                    found[h.passage][key] = max(found[h.passage].get(key, 0.0), round(h.score, 3))
            for p in passages:
                for wid, pat in patterns.items():
                    m = pat.search(p.text)
                    if m:
                        found[p.index][f"keyword:{wid}"] = 1.0
            for i, hits in sorted(found.items()):
                out.write(json.dumps({"id": ids[i], "hits": hits}) + "\n")
            print(f"{book}: {len(passages)} passages, {len(found)} pointed "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


# ---------------------------------------------------------------- sample


def _load_pointers() -> dict[str, dict[str, float]]:
    with gzip.open(POINTERS_FILE, "rt", encoding="utf-8") as f:
        return {r["id"]: r["hits"] for r in map(json.loads, f)}


def cmd_sample(args: argparse.Namespace) -> None:
    """Draw the three corpus strata and the annotation order; write sample.jsonl."""
    data = Path(args.data)
    rng = random.Random(SEED)
    books = all_books(data)
    everything = [p.id for b in books for p in book_passages(b, data)]
    chosen: dict[str, dict] = {}

    # 1. random: uniform over all passages of all books (the natural distribution)
    for pid in rng.sample(everything, N_RANDOM):
        chosen[pid] = {"id": pid, "stratum": "random", "drawn": "uniform"}
    if args.random_only:
        pointers: dict[str, dict[str, float]] = {}
    else:
        pointers = _load_pointers()

    # 2. pointed: per warning, passages a detector or keyword list points at, spread over
    # score bands (strong hits, weak hits, near-misses) so both hard positives and hard
    # negatives are drawn; each warning gets an equal share, unused shares are passed on.
    by_warning: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for pid, hits in pointers.items():
        for key, score in hits.items():
            source, wid = key.split(":", 1)
            by_warning[wid].append((pid, source, score))
    warnings = sorted(by_warning, key=lambda w: len(by_warning[w]))
    remaining = N_POINTED
    for k, wid in enumerate(warnings):
        share = remaining // (len(warnings) - k)
        pool = by_warning[wid]
        rng.shuffle(pool)
        bands: dict[str, list] = defaultdict(list)
        for pid, source, score in pool:
            band = "keyword" if source == "keyword" else (
                "strong" if score >= 0.65 else "weak" if score >= 0.5 else "near")
            bands[band].append((pid, source, score))
        taken = 0
        order = ["strong", "weak", "near", "keyword"]
        cursors = dict.fromkeys(order, 0)
        while taken < share and any(cursors[b] < len(bands[b]) for b in order):
            for b in order:
                while cursors[b] < len(bands[b]):
                    pid, source, score = bands[b][cursors[b]]
                    cursors[b] += 1
                    if pid not in chosen:
                        chosen[pid] = {"id": pid, "stratum": "pointed",
                                       "drawn": f"{source}:{wid}:{score:g}:{b}"}
                        taken += 1
                        break
                if taken >= share:
                    break
        remaining -= taken

    # 3. scenes: the passages around each book's strongest evidence per warning (two on
    # each side), rarest warnings first, so the scenes of rare warnings are reached.
    strongest: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for pid, hits in pointers.items():
        for key, score in hits.items():
            source, wid = key.split(":", 1)
            if source != "keyword" and score >= 0.65:
                strongest[wid].append((score, pid))
    per_warning = max(1, N_SCENE // max(1, len(strongest)))
    scene_left = N_SCENE
    for k, wid in enumerate(sorted(strongest, key=lambda w: len(strongest[w]))):
        share = min(per_warning * 2, scene_left // (len(strongest) - k))
        anchors = sorted(strongest[wid], reverse=True)
        rng.shuffle(anchors)
        taken = 0
        for _, anchor in anchors:
            if taken >= share:
                break
            book, _, _ = parse_id(anchor)
            ps = book_passages(book, data)
            idx = lookup(anchor, data).index
            for j in range(max(0, idx - 2), min(len(ps), idx + 3)):
                pid = ps[j].id
                if pid not in chosen and taken < share:
                    chosen[pid] = {"id": pid, "stratum": "scene",
                                   "drawn": f"around:{wid}:{anchor}:{j - idx:+d}"}
                    taken += 1
        scene_left -= taken

    # the annotation order: the random stratum first (b001-b060: the natural distribution
    # the baseline and the alarm rate need), then blocks of BATCH_SIZE that mix pointed
    # and scene passages in proportion, so any prefix of the queue is a fair sample
    queue = [r for r in chosen.values() if r["stratum"] == "random"]
    strata = {s: [r for r in chosen.values() if r["stratum"] == s] for s in ("pointed", "scene")}
    for rows in strata.values():
        rng.shuffle(rows)
    total = sum(len(r) for r in strata.values())
    cursor = dict.fromkeys(strata, 0.0)
    while any(strata.values()):
        for s, rows in strata.items():
            cursor[s] += len(rows) / max(1, total) * BATCH_SIZE
            while cursor[s] >= 1 and rows:
                queue.append(rows.pop())
                cursor[s] -= 1
    for n, row in enumerate(queue):
        row["queue"] = n
    with open(SAMPLE_FILE, "w", encoding="utf-8") as f:
        for row in queue:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    print(json.dumps(Counter(r["stratum"] for r in queue)))


# Warnings the first classifier finds least of on dev and test (recall <= 0.3 at its
# operating point, or fewer than 150 train positives): the targeted wave reads more of them.
TARGETED = (
    "kidnapping", "animal-death", "abuse", "child-abuse", "animal-cruelty", "abusive-language",
    "suicide", "self-harm", "mental-illness", "addiction", "sexual-content",
    "religious-discrimination", "dying", "child-death", "sexual-assault", "eating-disorders",
    "miscarriage", "abortion", "childbirth", "body-dysmorphia", "misogyny", "dissection",
)
N_TARGETED = 120


def append_to_sample(new: list[dict], start: int) -> None:
    """Append drawn passages to sample.jsonl, numbered on from ``start`` in the queue."""
    for n, row in enumerate(new):
        row["queue"] = start + n
    with open(SAMPLE_FILE, "a", encoding="utf-8") as f:
        for row in new:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    print(f"{len(new)} passages appended (queue {start}-{start + len(new) - 1})")


def cmd_targeted(args: argparse.Namespace) -> None:
    """Append a targeted wave to sample.jsonl: per warning in TARGETED, up to N_TARGETED
    passages of *train* books that a detector or keyword list points at for it and no one
    has read yet. Dev and test books are never drawn, so their figures stay comparable.
    Selection only: every label still comes from reading the passage."""
    rng = random.Random(SEED + 3)
    splits = load_splits()
    train_books = set(splits["books"]["train"])
    sample = load_sample()
    chosen = {r["id"] for r in sample}
    by_warning: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for pid, hits in _load_pointers().items():
        if parse_id(pid)[0] not in train_books or pid in chosen:
            continue
        for key, score in hits.items():
            source, wid = key.split(":", 1)
            by_warning[wid].append((pid, source, score))
    new = []
    for wid in TARGETED:
        pool = sorted(by_warning.get(wid, []))
        rng.shuffle(pool)
        # detector hits first (strongest half, then the rest), keyword-only hits after
        pool.sort(key=lambda t: (t[1] == "keyword", -round(t[2], 1)))
        taken = 0
        for pid, source, score in pool:
            if taken >= args.per_warning:
                break
            if pid in chosen:
                continue
            chosen.add(pid)
            new.append({"id": pid, "stratum": "targeted",
                        "drawn": f"{args.wave}:{source}:{wid}:{score:g}"})
            taken += 1
    rng.shuffle(new)
    append_to_sample(new, len(sample))


# A wave pointed by a trained classifier (active learning): where the lexicon and keyword
# pointers found few new positives, the classifier's own scores over unread train passages
# point better. Half of each warning's draw is the most probable passages, half those the
# classifier is least sure of (probability nearest WAVE_UNSURE).
WAVE_UNSURE = 0.3


def cmd_scored(args: argparse.Namespace) -> None:
    """Append a wave of *train*-book passages pointed by a classifier's scores (an ``.npz``
    with ``books``, ``index``, ``probs`` [passages, warnings] and ``warnings``, as
    ``training/distill_fast.py teacher`` writes). Selection only: every label still comes
    from reading the passage."""
    import numpy as np

    data = Path(args.data)
    scores = np.load(args.scores)
    wids = [str(w) for w in scores["warnings"]]
    train_books = set(load_splits()["books"]["train"])
    sample = load_sample()
    chosen = {r["id"] for r in sample}
    rng = random.Random(SEED + 4)
    books = [str(b) for b in scores["books"]]
    new = []
    for wid in args.warnings.split(","):
        j = wids.index(wid)
        p = scores["probs"][:, j]
        top = sorted(range(len(p)), key=lambda i: -p[i])
        unsure = sorted(range(len(p)), key=lambda i: abs(p[i] - WAVE_UNSURE))
        taken = 0
        for order, how in ((top, "top"), (unsure, "unsure")):
            want = args.per_warning // 2 if how == "top" else args.per_warning - taken
            got = 0
            for i in order:
                if got >= want:
                    break
                if books[i] not in train_books:
                    continue
                passages = book_passages(books[i], data)
                if int(scores["index"][i]) >= len(passages):
                    continue
                pid = passages[int(scores["index"][i])].id
                if pid in chosen:
                    continue
                chosen.add(pid)
                new.append({"id": pid, "stratum": "targeted",
                            "drawn": f"{args.wave}:classifier-{how}:{wid}:{p[i]:.3f}"})
                got += 1
            taken += got
    rng.shuffle(new)
    append_to_sample(new, len(sample))


def cmd_random(args: argparse.Namespace) -> None:
    """Append more of the natural distribution for one split: passages drawn uniformly from
    every passage of that split's books that no one has read yet (stratum ``random``, so
    the combiner and the operating points count them as what a reader meets). Used to give
    the dev split more natural passages, where the choices are made."""
    data = Path(args.data)
    rng = random.Random(f"{SEED}:{args.wave}")
    books = sorted(load_splits()["books"][args.split])
    sample = load_sample()
    chosen = {r["id"] for r in sample}
    pool = [p.id for b in books for p in book_passages(b, data) if p.id not in chosen]
    new = [{"id": pid, "stratum": "random", "drawn": f"{args.wave}:uniform-{args.split}"}
           for pid in rng.sample(pool, min(args.n, len(pool)))]
    print(f"{len(pool)} unread {args.split} passages")
    append_to_sample(new, len(sample))


# ---------------------------------------------------------------- export


def load_sample() -> list[dict]:
    with open(SAMPLE_FILE, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _clip(text: str, words: int, tail: bool) -> str:
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return "… " + " ".join(parts[-words:]) if tail else " ".join(parts[:words]) + " …"


def passage_text(pid: str, data: Path = DEFAULT_DATA) -> tuple[str, str, str]:
    """(before, passage, after) for a corpus or modern passage id."""
    if pid.startswith("modern:"):
        return modern_passage(pid)
    if pid.startswith("ao3:"):
        return "", ao3_passages(data)[pid]["text"], ""
    p = lookup(pid, data)
    before, after = neighbours(p, data)
    return before, p.text, after


def modern_scenes() -> list[Path]:
    """Every scene file written for the project (``modern/wNN/sNN.txt``)."""
    return sorted(MODERN_DIR.glob("w*/s*.txt"))


def modern_passages(path: Path) -> list[tuple[str, str]]:
    """(id, text) of a scene's passages, segmented by forewarn like any plain-text story."""
    from forewarn.ingest.text import parse_text
    from forewarn.segment import segment

    text = path.read_text(encoding="utf-8")
    work = parse_text(text, source=path.name)
    offsets = {ch.number: ch.offset for ch in work.chapters}
    scene = f"{path.parent.name}-{path.stem}"
    out = []
    for p in segment(work):
        start, end = offsets[p.chapter] + p.start, offsets[p.chapter] + p.end
        assert text[start:end] == p.text
        out.append((f"modern:{scene}:{start}-{end}", p.text))
    return out


@functools.cache
def current_modern() -> frozenset[str]:
    """Every modern passage id as the scene files stand now."""
    return frozenset(pid for path in modern_scenes() for pid, _ in modern_passages(path))


def modern_passage(pid: str) -> tuple[str, str, str]:
    _, scene, _ = pid.split(":")
    batch, stem = scene.split("-", 1)
    ps = modern_passages(MODERN_DIR / batch / f"{stem}.txt")
    ids = [i for i, _ in ps]
    k = ids.index(pid)
    before = ps[k - 1][1] if k else ""
    after = ps[k + 1][1] if k + 1 < len(ps) else ""
    return before, ps[k][1], after


@functools.cache
def ao3_passages(data: Path = DEFAULT_DATA) -> dict[str, dict]:
    """The AO3 passages (evaluation only) by id ``ao3:<example_id>``."""
    path = Path(data) / "passage-warnings" / "passages.jsonl"
    with open(path, encoding="utf-8") as f:
        return {f"ao3:{r['example_id']}": r for r in map(json.loads, f)}


def write_batch(name: str, ids: list[str], data: Path) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / "batches" / f"{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Batch {name}: {len(ids)} passages", "",
             "Label each PASSAGE against docs/annotation-guide.md (version "
             f"{GUIDE_VERSION}). BEFORE and AFTER are context only: do not label them.", ""]
    for pid in ids:
        before, text, after = passage_text(pid, data)
        lines += [f"## {pid}", ""]
        if before:
            lines += [f"BEFORE (context): {_clip(before, CONTEXT_WORDS, tail=True)}", ""]
        lines += ["PASSAGE:", "", text.strip(), ""]
        if after:
            lines += [f"AFTER (context): {_clip(after, CONTEXT_WORDS, tail=False)}", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    (WORK / "batches" / f"{name}.ids").write_text("\n".join(ids) + "\n", encoding="utf-8")
    return out


def cmd_export(args: argparse.Namespace) -> None:
    """Write batch ``name``: queue block N for ``bNNN``, or the ids given in --ids."""
    data = Path(args.data)
    if args.ids:
        ids = [line.strip() for line in Path(args.ids).read_text().splitlines() if line.strip()]
    elif args.modern:
        ids = [pid for path in modern_scenes() if path.parent.name in args.modern
               for pid, _ in modern_passages(path)]
    elif args.ao3 is not None:
        # AO3 passages in a fixed shuffled order, BATCH_SIZE per block
        allids = sorted(ao3_passages(data))
        random.Random(SEED).shuffle(allids)
        ids = allids[args.ao3 * BATCH_SIZE:(args.ao3 + 1) * BATCH_SIZE]
    else:
        m = re.fullmatch(r"b(\d+)", args.name)
        if not m:
            raise SystemExit("export: name a queue batch bNNN or give --ids")
        n = int(m[1]) - 1
        sample = load_sample()
        ids = [r["id"] for r in sample[n * BATCH_SIZE:(n + 1) * BATCH_SIZE]]
        if not ids:
            raise SystemExit(f"export: the queue has no batch {args.name}")
    print(write_batch(args.name, ids, data))


# ---------------------------------------------------------------- import / validate


class LabelError(ValueError):
    pass


def check_record(row: dict, warnings: set[str]) -> None:
    if not isinstance(row.get("id"), str):
        raise LabelError("record has no string id")
    labels = row.get("labels")
    if not isinstance(labels, dict):
        raise LabelError(f"{row['id']}: labels must be an object")
    for wid, sev in labels.items():
        if wid not in warnings:
            raise LabelError(f"{row['id']}: unknown warning {wid!r}")
        if sev not in SEVERITIES:
            raise LabelError(f"{row['id']}: {wid}: severity {sev!r} is not one of {SEVERITIES}")
    flags = row.get("flags", [])
    if not isinstance(flags, list) or any(f not in FLAGS for f in flags):
        raise LabelError(f"{row['id']}: flags must be a list drawn from {FLAGS}")


def cmd_import(args: argparse.Namespace) -> None:
    """Check an annotator's file against its batch and store it under labels/."""
    warnings = set(warning_ids())
    ids_file = WORK / "batches" / f"{args.batch}.ids"
    expected = [line.strip() for line in ids_file.read_text().splitlines() if line.strip()]
    rows = []
    for n, line in enumerate(Path(args.file).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"import: {args.file}:{n}: not JSON ({e.msg})") from None
        try:
            check_record(row, warnings)
        except LabelError as e:
            raise SystemExit(f"import: {args.file}:{n}: {e}") from None
        rows.append(row)
    got = [r["id"] for r in rows]
    if sorted(got) != sorted(expected) or len(set(got)) != len(got):
        missing = set(expected) - set(got)
        extra = set(got) - set(expected)
        raise SystemExit(f"import: {args.file}: ids differ from batch {args.batch} "
                         f"(missing {len(missing)}, unexpected {len(extra)}, "
                         f"{len(got) - len(set(got))} repeated)")
    strata = {r["id"]: r["stratum"] for r in load_sample()}
    LABELS_DIR.mkdir(parents=True, exist_ok=True)
    out = LABELS_DIR / f"{args.batch}.r{args.round}.jsonl"
    if out.exists() and not args.replace:
        raise SystemExit(f"import: {out} exists (use --replace)")
    with open(out, "w", encoding="utf-8") as f:
        for row in rows:
            pid = row["id"]
            source = "modern" if pid.startswith("modern:") else (
                "ao3" if pid.startswith("ao3:") else "corpus")
            rec = {
                "id": pid,
                "source": source,
                "stratum": strata.get(pid, source),
                "labels": dict(sorted(row["labels"].items())),
                "flags": sorted(set(row.get("flags", []))),
                "annotator": args.annotator,
                "round": args.round,
                "batch": args.batch,
                "guide_version": GUIDE_VERSION,
            }
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    print(f"{out}: {len(rows)} passages")


def load_labels() -> list[dict]:
    rows = []
    for path in sorted(LABELS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _split_members(groups: dict[str, list[str]], what: str, problems: list[str]) -> dict[str, str]:
    """member -> split; a member listed in two splits is a problem."""
    seen: dict[str, str] = {}
    for name, members in groups.items():
        for m in members:
            if m in seen:
                problems.append(f"{what} {m} is in {seen[m]} and {name}")
            seen[m] = name
    return seen


def validate(data: Path | None = DEFAULT_DATA) -> list[str]:
    """Every problem with the stored labels and splits (an empty list when all is well)."""
    problems: list[str] = []
    warnings = set(warning_ids())
    splits = load_splits()
    seen = _split_members(splits["books"], "book", problems)
    mseen = _split_members(splits["modern_batches"], "modern batch", problems)
    by_key: set[tuple[str, int, str]] = set()
    for row in load_labels():
        try:
            check_record(row, warnings)
        except LabelError as e:
            problems.append(str(e))
            continue
        if row.get("guide_version") != GUIDE_VERSION:
            problems.append(f"{row['id']}: guide version {row.get('guide_version')!r}")
        key = (row["id"], row["round"], row["annotator"])
        if key in by_key:
            problems.append(f"{row['id']}: labelled twice by {row['annotator']} in round "
                            f"{row['round']}")
        by_key.add(key)
        if row["source"] == "corpus":
            book, _start, _end = parse_id(row["id"])
            if book not in seen:
                problems.append(f"{row['id']}: book in no split")
            if data is not None and (data / "fiction-corpus").is_dir():
                try:
                    lookup(row["id"], data)
                except KeyError as e:
                    problems.append(str(e))
        elif row["source"] == "modern":
            batch = row["id"].split(":")[1].split("-")[0]
            if batch not in mseen:
                problems.append(f"{row['id']}: writing batch in no split")
            if row["id"] not in current_modern():
                problems.append(f"{row['id']}: not a passage of the scene as it stands "
                                "(the scene was edited after it was labelled)")
    return problems


def cmd_validate(args: argparse.Namespace) -> None:
    problems = validate(Path(args.data))
    for p in problems:
        print(p)
    if problems:
        raise SystemExit(1)
    print(f"ok: {len(load_labels())} label records")


# ---------------------------------------------------------------- progress


def final_labels() -> dict[str, dict]:
    """One label per passage: the adjudication (round 3) where there is one, else round 1."""
    best: dict[str, dict] = {}
    for row in load_labels():
        cur = best.get(row["id"])
        if cur is None or row["round"] == 3 or (cur["round"] == 2 and row["round"] == 1):
            best[row["id"]] = row
    return best


def cmd_progress(args: argparse.Namespace) -> None:
    labels = final_labels()
    sample = load_sample()
    by_stratum = Counter(r["stratum"] for r in sample)
    done = Counter(r["stratum"] for r in sample if r["id"] in labels)
    for s in by_stratum:
        print(f"{s:8s} {done[s]:6d} / {by_stratum[s]}")
    sources = Counter(r["source"] for r in labels.values())
    print("by source:", dict(sources))
    rounds = Counter(r["round"] for r in load_labels())
    print("by round:", dict(sorted(rounds.items())))
    pos: dict[str, Counter] = defaultdict(Counter)
    for row in labels.values():
        if row["source"] != "ao3":
            for wid in row["labels"]:
                pos[wid][split_of_passage(row["id"])] += 1
    print("positives per warning, corpus and modern (train/dev/test):")
    for wid in warning_ids():
        c = pos[wid]
        print(f"  {wid:26s} {c['train']:5d} {c['dev']:5d} {c['test']:5d}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("pointers").set_defaults(fn=cmd_pointers)
    sm = sub.add_parser("sample")
    sm.add_argument("--random-only", action="store_true",
                    help="draw the random stratum only (before the pointers exist)")
    sm.set_defaults(fn=cmd_sample)
    t = sub.add_parser("targeted")
    t.add_argument("--wave", default="wave3")
    t.add_argument("--per-warning", type=int, default=N_TARGETED)
    t.set_defaults(fn=cmd_targeted)
    sc = sub.add_parser("scored", help="a wave pointed by a classifier's scores")
    sc.add_argument("scores", help="an .npz of train-book passages' probabilities")
    sc.add_argument("--wave", required=True)
    sc.add_argument("--warnings", required=True, help="comma-separated warning ids")
    sc.add_argument("--per-warning", type=int, default=50)
    sc.set_defaults(fn=cmd_scored)
    rd = sub.add_parser("random", help="more uniform passages of one split's books")
    rd.add_argument("--split", required=True, choices=("train", "dev", "test"))
    rd.add_argument("--wave", required=True)
    rd.add_argument("--n", type=int, required=True)
    rd.set_defaults(fn=cmd_random)
    e = sub.add_parser("export")
    e.add_argument("name")
    e.add_argument("--ids", help="a file of passage ids, one a line")
    e.add_argument("--modern", nargs="+", help="every passage of these writing batches")
    e.add_argument("--ao3", type=int, help="block N (from 0) of the shuffled AO3 passages")
    e.set_defaults(fn=cmd_export)
    i = sub.add_parser("import")
    i.add_argument("batch")
    i.add_argument("file")
    i.add_argument("--annotator", required=True)
    i.add_argument("--round", type=int, default=1, choices=(1, 2, 3))
    i.add_argument("--replace", action="store_true")
    i.set_defaults(fn=cmd_import)
    sub.add_parser("validate").set_defaults(fn=cmd_validate)
    sub.add_parser("progress").set_defaults(fn=cmd_progress)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
