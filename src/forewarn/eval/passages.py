"""Passage-level evaluation on the annotated AO3 passages (Wiegmann et al., 2024).

Two views of ``passage-warnings/passages.jsonl`` (one warning per passage, three votes):

* :func:`protocol` (part ``passages``): the paper's test protocol. Per warning and seed
  (43-47), draw 20 positive and 20 negative passages (majority vote) as the test set and
  train on the rest; average positive-class F1 and accuracy over seeds. In distribution:
  test drawn from all of the warning's passages, training on the others. Out of
  distribution: train on ``set_id`` 0, test drawn from ``set_id`` 1.
* :func:`natural` (part ``natural``): every passage, at its natural positive rate, in
  grouped 5-fold cross-validation by ``work_id``; per-warning precision, recall and F1 and
  their macro average, for majority and minority labels.

Models compared:

* **static head** / **encoder head**: a per-warning logistic head on forewarn's static
  embeddings or on its MiniLM encoder's, trained on the split's training passages with the
  shipped recipe (``training/train_heads.py``: class-balanced L2 logistic regression, ``C``
  picked by grouped out-of-fold average precision; on the natural distribution also its
  Platt scaling and precision-0.7 threshold; on the balanced protocol the prior-neutral
  decision ``w·x + b >= 0``);
* **+ lexicon feature**: the encoder head with the shipped lexicon's score as one more
  input (protocol), and **OR lexicon** (a passage is positive when either says so);
* **shipped lexicon**: forewarn's lexicon alone, no training;
* **shipped forewarn**: the scanner as installed (lexicon, cascade and calibration, no
  retraining).
  The shipped heads were trained on ``set_id`` 0 passages, so its figures are clean only
  on ``set_id`` 1 (the protocol's out-of-distribution test, the "set 1 only" rows);
* **TF-IDF + LR** (natural only): word and bigram TF-IDF, class-balanced logistic
  regression, the usual baseline.

Training needs scikit-learn (the ``eval`` extra) and the source checkout's
``training/train_heads.py``, whose functions are imported rather than copied.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from forewarn.eval.common import Context, MissingExtra, Scored, need, read_jsonl, repo_root
from forewarn.eval.metrics import Counts, macro, mean_std
from forewarn.eval.report import Section, Table

PASSAGE_FILE = Path("passage-warnings") / "passages.jsonl"
PROTOCOL_SEEDS = (43, 44, 45, 46, 47)
N_TEST_PER_CLASS = 20
CV_FOLDS = 5
CV_SEED = 13  # the recipe's seed (train_heads.SEED), for the grouped folds
# The paper's order of the eight warnings.
PAPER_ORDER = ("violence", "death", "war", "abduction", "racism", "homophobia", "misogyny",
               "ableism")
# Published positive-class F1, majority labels (Wiegmann et al. 2024; the data README).
PUBLISHED_ID = (("Mixtral-8x7B", 0.77), ("GPT-4", 0.76), ("GPT-3.5", 0.76),
                ("fine-tuned RoBERTa", 0.58))
PUBLISHED_OOD = (("GPT-3.5", 0.75),)
ALWAYS_YES_BALANCED = 2 / 3
TFIDF_REFERENCE_MACRO_F1 = 0.36  # the figure the TF-IDF baseline was expected to reach


# -- the training recipe ---------------------------------------------------------------


def load_recipe() -> ModuleType:
    """``training/train_heads.py`` of the source checkout, imported as a module.

    Raises MissingExtra when scikit-learn is missing, when forewarn does not run from a
    source checkout, or when the script no longer has what the harness reuses. Importing
    it has its side effects: ``OMP_NUM_THREADS`` and friends set to 1 in this process's
    environment, and ``src/`` put first on ``sys.path``.
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtra(
            "this part trains heads and needs scikit-learn: pip install 'forewarn[eval]' "
            "(or scikit-learn>=1.4)"
        ) from None
    name = "forewarn_train_heads"
    if name in sys.modules:
        return sys.modules[name]
    root = repo_root()
    path = root / "training" / "train_heads.py" if root else None
    if path is None or not path.is_file():
        raise MissingExtra(
            "this part reuses training/train_heads.py and needs forewarn's source checkout "
            "(run it from the repository, installed with pip install -e)"
        )
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    lacking = [a for a in _RECIPE_API if not hasattr(module, a)]
    if lacking:
        del sys.modules[name]
        raise MissingExtra(f"{path} no longer has {', '.join(lacking)}, which the harness "
                           "reuses; update forewarn/eval/passages.py")
    return module


_RECIPE_API = ("PASSAGE_WARNINGS", "N_FOLDS", "C_GRID", "fit_lr", "out_of_fold", "platt",
               "sigmoid", "choose_threshold")


def _single_thread() -> Any:
    """Limit BLAS to one thread while fitting: faster on small problems, reproducible."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


# -- the data ---------------------------------------------------------------------------


@dataclass
class PassageData:
    """The passages, embedded once and scanned once by the shipped model."""

    rows: list[dict[str, Any]]
    warning: np.ndarray  # the data's warning name per passage
    target: np.ndarray  # forewarn's warning id per passage
    names: tuple[str, ...]  # the data's warning names present, paper order first
    x: np.ndarray  # [n, dim] float64 static embeddings
    xe: np.ndarray  # [n, 384] float64 encoder (MiniLM) embeddings
    majority: np.ndarray  # int 0/1
    minority: np.ndarray
    set_id: np.ndarray
    work: np.ndarray  # work_id as str
    shipped: list[Scored]

    def lexicon_score(self, idx: np.ndarray) -> np.ndarray:
        """The shipped lexicon's score for each passage's own warning (0: no hit)."""
        return np.array([self.shipped[i].lexicon.get(str(self.target[i]), 0.0) for i in idx])

    def shipped_says(self, idx: np.ndarray) -> np.ndarray:
        """Whether the shipped scanner reports each passage's own warning."""
        return np.array([str(self.target[i]) in self.shipped[i].warnings for i in idx],
                        dtype=bool)

    def labels(self, aggregation: str) -> np.ndarray:
        return self.majority if aggregation == "majority" else self.minority


_DATA_CACHE: dict[tuple[str, int], PassageData] = {}


def load_passages(ctx: Context, warning_map: dict[str, str]) -> PassageData:
    """Read, embed and scan the passage file of ``ctx.data_dir`` (cached per process)."""
    path = need(ctx.data_dir / PASSAGE_FILE, "passage data")
    key = (str(path.resolve()), id(ctx.shipped))
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    from forewarn.detect.static_model import StaticEmbedder

    rows = read_jsonl(path)
    unknown = sorted({str(r["warning"]) for r in rows} - set(warning_map))
    if unknown:
        from forewarn.eval.common import EvalError

        raise EvalError(f"{path}: warnings with no forewarn id: {', '.join(unknown)}")
    present = {str(r["warning"]) for r in rows}
    names = tuple(w for w in PAPER_ORDER if w in present) + tuple(
        sorted(present - set(PAPER_ORDER)))
    ctx.log(f"passages: embedding and scanning {len(rows):,} passages")
    started = time.perf_counter()
    x = StaticEmbedder().encode([str(r["text"]) for r in rows]).astype(np.float64)
    ctx.log(f"passages: encoding {len(rows):,} passages with the MiniLM encoder")
    encoder = ctx.shipped.encoder()
    encoder.memo = {}  # the shipped scan below reuses these vectors
    try:
        xe = encoder.encode([str(r["text"]) for r in rows]).astype(np.float64)
        shipped = ctx.shipped.score_many(str(r["text"]) for r in rows)
    finally:
        encoder.memo = None
    votes = [[int(v) for v in r["labels"]] for r in rows]
    data = PassageData(
        rows=rows,
        warning=np.array([str(r["warning"]) for r in rows]),
        target=np.array([warning_map[str(r["warning"])] for r in rows]),
        names=names,
        x=x,
        xe=xe,
        majority=np.array([int(sum(v) * 2 > len(v)) for v in votes]),
        minority=np.array([int(any(v)) for v in votes]),
        set_id=np.array([int(r.get("set_id", 0)) for r in rows]),
        work=np.array([str(r.get("work_id", i)) for i, r in enumerate(rows)]),
        shipped=shipped,
    )
    ctx.log(f"passages: ready in {time.perf_counter() - started:.1f} s")
    _DATA_CACHE[key] = data
    return data


# -- heads ------------------------------------------------------------------------------


def choose_c(recipe: ModuleType, x: np.ndarray, y: np.ndarray, groups: np.ndarray,
             grid: Sequence[float] | None = None) -> tuple[float, np.ndarray | None]:
    """The recipe's ``C``: best grouped out-of-fold average precision over its grid
    (``grid`` replaces the recipe's ``C_GRID``, for quick runs).

    Returns ``(C, out-of-fold scores)``; ``(1.0, None)`` when there are too few groups
    or positives for grouped 5-fold CV.
    """
    from sklearn.metrics import average_precision_score

    if min(int(y.sum()), int(len(y) - y.sum())) < 2 or len(set(groups)) < recipe.N_FOLDS:
        return 1.0, None
    best: tuple[float, float, np.ndarray] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the least populated class has only n members"
        for c in grid or recipe.C_GRID:
            try:
                s = recipe.out_of_fold(x, y, groups, c)
            except ValueError:
                return 1.0, None
            ap = float(average_precision_score(y, s))
            if best is None or ap > best[0] + 1e-9:
                best = (ap, c, s)
    assert best is not None
    return float(best[1]), best[2]


@dataclass
class Head:
    """A trained head: ``predict(x)`` gives booleans at the head's operating point."""

    model: Any
    c: float
    platt: tuple[float, float] | None = None
    threshold: float | None = None  # on the calibrated probability; None: decision >= 0

    def predict(self, x: np.ndarray, recipe: ModuleType) -> np.ndarray:
        z = self.model.decision_function(x)
        if self.platt is None or self.threshold is None:
            return np.asarray(z >= 0.0)
        a, b = self.platt
        return np.asarray(recipe.sigmoid(a * z + b) >= self.threshold)


def train_head(recipe: ModuleType, x: np.ndarray, y: np.ndarray, groups: np.ndarray,
               *, calibrated: bool, grid: Sequence[float] | None = None) -> Head | None:
    """Train one head with the recipe; None when the labels are all one class.

    ``calibrated``: also fit Platt scaling on the out-of-fold scores and pick the
    recipe's threshold (precision 0.7 with at least 3 hits, else guarded best F1), as
    the shipped heads do; otherwise predict at ``w·x + b >= 0``.
    """
    if len(set(y.tolist())) < 2:
        return None
    with _single_thread():
        c, oof = choose_c(recipe, x, y, groups, grid)
        model = recipe.fit_lr(x, y, c)
    head = Head(model, c)
    if calibrated and oof is not None:
        a, b = recipe.platt(oof, y)
        p = recipe.sigmoid(a * oof + b)
        threshold, _ = recipe.choose_threshold(p, y)
        head.platt, head.threshold = (a, b), float(threshold)
    return head


def _feature(x: np.ndarray, lex: np.ndarray) -> np.ndarray:
    return np.hstack([x, lex[:, None]])


# -- part 1: the published protocol ------------------------------------------------------

PROTOCOL_MODELS = (
    "always yes",
    "shipped lexicon",
    "static head",
    "static head OR lexicon",
    "encoder head",
    "encoder head + lexicon feature",
    "encoder head OR lexicon",
    "shipped forewarn",
)


def draw_test(seed: int, positives: np.ndarray, negatives: np.ndarray,
              n: int = N_TEST_PER_CLASS) -> np.ndarray:
    """``n`` positives and ``n`` negatives (all there are when fewer), drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    pos = rng.choice(positives, size=min(n, len(positives)), replace=False)
    neg = rng.choice(negatives, size=min(n, len(negatives)), replace=False)
    return np.sort(np.concatenate([pos, neg]))


def protocol(ctx: Context, seeds: Sequence[int] = PROTOCOL_SEEDS,
             n_test: int = N_TEST_PER_CLASS) -> Section:
    """Part 1: the published 20+20 protocol, in and out of distribution.

    ``n_test`` (20 in the protocol) is only smaller for tests on miniature data.
    """
    section = Section("passages", f"Passage level: the published protocol ({n_test} + "
                                  f"{n_test}, {len(seeds)} seeds)")
    started = time.perf_counter()
    recipe = load_recipe()
    grid = ctx.options.get("c_grid")
    data = load_passages(ctx, dict(recipe.PASSAGE_WARNINGS))
    y_all = data.majority
    results: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    sizes: dict[str, dict[str, dict[str, int]]] = {}
    for setting in ("in-distribution", "out-of-distribution"):
        results[setting] = {m: {} for m in PROTOCOL_MODELS}
        sizes[setting] = {}
        for name in data.names:
            mine = np.flatnonzero(data.warning == name)
            pool = mine if setting == "in-distribution" else mine[data.set_id[mine] == 1]
            train_pool = mine if setting == "in-distribution" else mine[data.set_id[mine] == 0]
            pos, neg = pool[y_all[pool] == 1], pool[y_all[pool] == 0]
            if len(pos) == 0 or len(neg) == 0 or len(train_pool) == 0:
                section.notes.append(f"{setting}, {name}: no test set could be drawn "
                                     f"({len(pos)} positives, {len(neg)} negatives)")
                continue
            per_model: dict[str, list[Counts]] = {m: [] for m in PROTOCOL_MODELS}
            sizes[setting][name] = {"test_positives": int(min(len(pos), n_test)),
                                    "test_negatives": int(min(len(neg), n_test))}
            for seed in seeds:
                test = draw_test(seed, pos, neg, n_test)
                train = np.setdiff1d(train_pool, test)
                ctx.log(f"passages: {setting} {name} seed {seed}")
                gold = y_all[test].astype(bool)
                lex_train = data.lexicon_score(train)
                lex_test = data.lexicon_score(test)
                lex_hit = lex_test > 0
                def fit_predict(x: np.ndarray, train: np.ndarray = train,
                                test: np.ndarray = test) -> np.ndarray:
                    head = train_head(recipe, x[train], y_all[train], data.work[train],
                                      calibrated=False, grid=grid)
                    return (head.predict(x[test], recipe) if head is not None
                            else np.zeros(len(test), dtype=bool))

                static_pred = fit_predict(data.x)
                encoder_pred = fit_predict(data.xe)
                lex_all = np.zeros(len(data.rows))
                lex_all[train], lex_all[test] = lex_train, lex_test
                preds = {
                    "always yes": np.ones(len(test), dtype=bool),
                    "shipped lexicon": lex_hit,
                    "static head": static_pred,
                    "static head OR lexicon": static_pred | lex_hit,
                    "encoder head": encoder_pred,
                    "encoder head + lexicon feature": fit_predict(_feature(data.xe, lex_all)),
                    "encoder head OR lexicon": encoder_pred | lex_hit,
                    "shipped forewarn": data.shipped_says(test),
                }
                for m, pred in preds.items():
                    per_model[m].append(Counts.of(pred.tolist(), gold.tolist()))
            for m, counts in per_model.items():
                f1s = [c.f1 for c in counts]
                accs = [c.accuracy for c in counts]
                results[setting][m][name] = {
                    "f1": mean_std(f1s)[0], "f1_std": mean_std(f1s)[1],
                    "accuracy": mean_std(accs)[0],
                    "precision": macro(c.precision for c in counts),
                    "recall": macro(c.recall for c in counts),
                    "per_seed_f1": [round(v, 4) for v in f1s],
                }

    for setting in ("in-distribution", "out-of-distribution"):
        names = [n for n in data.names if n in sizes[setting]]
        table = Table(["model", *names, "mean F1", "mean acc"],
                      caption=f"**{setting.capitalize()}**, majority labels: positive-class "
                              "F1 per warning, mean over seeds; mean F1 and accuracy over "
                              "warnings.")
        for m in PROTOCOL_MODELS:
            cells = [results[setting][m][n]["f1"] for n in names]
            label = m
            if m == "shipped forewarn":
                label += (" (not clean: saw set 0)" if setting == "in-distribution"
                          else " (clean)")
            table.add(label, *cells, macro(cells),
                      macro(results[setting][m][n]["accuracy"] for n in names))
        published = PUBLISHED_ID if setting == "in-distribution" else PUBLISHED_OOD
        for label, value in published:
            table.add(f"published: {label}", *([None] * len(names)), value, None)
        table.add("published: always yes", *([None] * len(names)), ALWAYS_YES_BALANCED, None)
        section.tables.append(table)
        small = [f"{n} ({s['test_positives']}+{s['test_negatives']})"
                 for n, s in sizes[setting].items()
                 if s["test_positives"] < n_test or s["test_negatives"] < n_test]
        if small:
            section.notes.append(f"{setting}: fewer than {n_test} of a class to draw from, so the "
                                 f"test set holds all there are: {', '.join(small)}.")
    section.intro = (
        f"Per warning and seed ({', '.join(map(str, seeds))}), {n_test} positive and "
        f"{n_test} negative passages (majority of three votes) are drawn as the "
        "test set and the heads are trained on the rest. In distribution: drawn from all of "
        "the warning's passages, trained on its other passages. Out of distribution: trained "
        "on set_id 0, drawn from set_id 1. 'static head' and 'encoder head' are retrained "
        "per split with the shipped recipe (training/train_heads.py: class-balanced logistic "
        "regression on the static or the MiniLM encoder embeddings, C by grouped out-of-fold "
        "average precision), predicting at w·x+b >= 0 ('+ lexicon feature': the lexicon "
        "score as one more input); 'shipped lexicon' and 'shipped forewarn' are not "
        "retrained. Published figures are the paper's (in-distribution mean over "
        "warnings, majority labels)."
    )
    section.notes.append(
        "The shipped heads were trained on every set_id 0 passage (and the project's seed "
        "passages), so 'shipped forewarn' in distribution is scored partly on passages it "
        "was trained on; only its out-of-distribution row is a clean held-out figure.")
    section.notes.append(
        "The test draws are ours (numpy default_rng(seed)); the paper's exact draws are not "
        "published in the data, so per-seed figures are not comparable one to one, only "
        "the averages.")
    section.data = {"results": results, "test_sizes": sizes, "seeds": list(seeds),
                    "n_test": n_test}
    section.seconds = time.perf_counter() - started
    return section


# -- part 2: the natural distribution ----------------------------------------------------

NATURAL_MODELS = (
    "TF-IDF + LR",
    "static head",
    "encoder head",
    "encoder head OR lexicon",
    "shipped lexicon",
    "shipped forewarn",
    "shipped forewarn, set 1 only",
)


def _tfidf_fit_predict(train_texts: list[str], y: np.ndarray, test_texts: list[str],
                       ) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return np.zeros(len(test_texts), dtype=bool)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                 strip_accents="unicode")
    try:
        xt = vectorizer.fit_transform(train_texts)
    except ValueError:  # an empty vocabulary (tiny data): fall back to single words
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        xt = vectorizer.fit_transform(train_texts)
    with _single_thread():
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(xt, y)
    return np.asarray(model.predict(vectorizer.transform(test_texts)) == 1)


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_folds: int = CV_FOLDS,
                  seed: int = CV_SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, grouped folds (no work in two folds); fewer folds for tiny data."""
    from sklearn.model_selection import StratifiedGroupKFold

    k = max(2, min(n_folds, len(set(groups.tolist())), int(y.sum()) or 2,
                   int(len(y) - y.sum()) or 2))
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(tr, te) for tr, te in folds.split(np.zeros(len(y)), y, groups)]


def natural(ctx: Context) -> Section:
    """Part 2: grouped 5-fold CV by work on the natural distribution."""
    section = Section("natural", "Passage level: natural distribution (grouped 5-fold CV)")
    started = time.perf_counter()
    recipe = load_recipe()
    grid = ctx.options.get("c_grid")
    data = load_passages(ctx, dict(recipe.PASSAGE_WARNINGS))
    texts = [str(r["text"]) for r in data.rows]
    results: dict[str, dict[str, dict[str, Counts]]] = {}
    for aggregation in ("majority", "minority"):
        y_all = data.labels(aggregation)
        results[aggregation] = {m: {} for m in NATURAL_MODELS}
        for name in data.names:
            idx = np.flatnonzero(data.warning == name)
            y = y_all[idx]
            preds: dict[str, np.ndarray] = {m: np.zeros(len(idx), dtype=bool)
                                            for m in NATURAL_MODELS[:4]}
            for k, (tr, te) in enumerate(grouped_folds(y, data.work[idx])):
                ctx.log(f"natural: {aggregation} {name} fold {k + 1}")
                train, test = idx[tr], idx[te]
                preds["TF-IDF + LR"][te] = _tfidf_fit_predict(
                    [texts[i] for i in train], y_all[train], [texts[i] for i in test])
                for model, x in (("static head", data.x), ("encoder head", data.xe)):
                    head = train_head(recipe, x[train], y_all[train], data.work[train],
                                      calibrated=True, grid=grid)
                    if head is not None:
                        preds[model][te] = head.predict(x[test], recipe)
            lex_hit = data.lexicon_score(idx) > 0
            preds["encoder head OR lexicon"] = preds["encoder head"] | lex_hit
            preds["shipped lexicon"] = lex_hit
            preds["shipped forewarn"] = data.shipped_says(idx)
            gold = y.astype(bool)
            for m, pred in preds.items():
                results[aggregation][m][name] = Counts.of(pred.tolist(), gold.tolist())
            set1 = data.set_id[idx] == 1
            if set1.any():
                results[aggregation]["shipped forewarn, set 1 only"][name] = Counts.of(
                    preds["shipped forewarn"][set1].tolist(), gold[set1].tolist())

    def prf(c: Counts) -> str:
        return f"{c.precision:.2f} / {c.recall:.2f} / {c.f1:.2f}"

    summary = Table(["model", "majority macro-F1", "minority macro-F1",
                     "majority macro-P", "majority macro-R"],
                    caption="**Macro averages over the warnings** (F1 per warning, then the "
                            "mean).")
    for m in NATURAL_MODELS:
        maj, mino = results["majority"][m], results["minority"][m]
        if not maj:
            continue
        summary.add(m, macro(c.f1 for c in maj.values()), macro(c.f1 for c in mino.values()),
                    macro(c.precision for c in maj.values()),
                    macro(c.recall for c in maj.values()))
    summary.add("reference: TF-IDF baseline (expected)", TFIDF_REFERENCE_MACRO_F1, None,
                None, None)
    section.tables.append(summary)
    shown = ("TF-IDF + LR", "static head", "encoder head", "encoder head OR lexicon",
             "shipped lexicon", "shipped forewarn")
    for aggregation in ("majority", "minority"):
        y_all = data.labels(aggregation)
        table = Table(["warning", "passages", "positives", *(f"{m} P / R / F1" for m in shown)],
                      caption=f"**{aggregation.capitalize()} labels**, per warning: precision "
                              "/ recall / F1 (positive class).")
        for name in data.names:
            idx = data.warning == name
            table.add(name, int(idx.sum()), int(y_all[idx].sum()),
                      *(prf(results[aggregation][m][name]) for m in shown))
        table.add("macro", None, None, *(
            f"{macro(c.precision for c in results[aggregation][m].values()):.2f} / "
            f"{macro(c.recall for c in results[aggregation][m].values()):.2f} / "
            f"{macro(c.f1 for c in results[aggregation][m].values()):.2f}" for m in shown))
        section.tables.append(table)
    section.tables.append(reliability_table(data))
    section.intro = (
        "Every passage at its natural positive rate, each warning on its own passages, in "
        f"stratified {CV_FOLDS}-fold cross-validation grouped by work_id (no work in two "
        "folds). 'static head' / 'encoder head': the shipped recipe on the static or the "
        "MiniLM encoder embeddings, retrained per fold (C by inner grouped "
        "CV, Platt scaling, threshold at out-of-fold precision 0.7). 'TF-IDF + LR': word "
        "1-2-gram TF-IDF, class-balanced logistic regression at p >= 0.5. The shipped "
        "lexicon and scanner are not retrained.")
    section.notes.append(
        "'shipped forewarn' over all passages includes set_id 0 passages its heads were "
        "trained on (optimistic); 'shipped forewarn, set 1 only' is the clean figure.")
    section.notes.append(
        "Minority labels (any of three votes) roughly double the positives; the heads "
        "are retrained on them, the shipped lexicon and scanner are not.")
    section.data = {
        agg: {m: {n: c.as_dict() for n, c in per.items()} for m, per in models.items()}
        for agg, models in results.items()
    }
    section.seconds = time.perf_counter() - started
    return section


RELIABILITY_BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def reliability(confidence: Sequence[float], right: Sequence[bool],
                bins: Sequence[float] = RELIABILITY_BINS) -> list[tuple[str, int, float, float]]:
    """Per confidence bin ``[lo, hi)`` (the last one closed): label, count, mean
    confidence and the fraction that were right. Empty bins are left out."""
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(right, dtype=bool)
    out = []
    for i, (lo, hi) in enumerate(itertools.pairwise(bins)):
        last = i == len(bins) - 2
        m = (conf >= lo) & ((conf <= hi) if last else (conf < hi))
        if m.any():
            out.append((f"{lo:.1f}-{hi:.1f}", int(m.sum()), float(conf[m].mean()),
                        float(ok[m].mean())))
    return out


def reliability_table(data: PassageData) -> Table:
    """Calibration of the shipped confidence on the held-out set 1: of the passages whose
    own warning forewarn reports at a confidence in a bin, the fraction truly labelled so
    (minority labels: what the shipped calibration predicts; majority beside it)."""
    idx = np.flatnonzero(data.set_id == 1)
    conf, by_minority, by_majority = [], [], []
    for i in idx:
        c = data.shipped[i].warnings.get(str(data.target[i]))
        if c is not None:
            conf.append(c)
            by_minority.append(bool(data.minority[i]))
            by_majority.append(bool(data.majority[i]))
    table = Table(["confidence", "reported", "mean confidence",
                   "fraction right (minority)", "fraction right (majority)"],
                  caption="**Calibration, held-out set 1**: passages whose own warning the "
                          "shipped scanner reports, by confidence. The shipped calibration "
                          "predicts the minority label (at least one of three annotators "
                          "asked for the warning): calibrated means the mean confidence and "
                          "the minority column agree.")
    majority = {row[0]: row[3] for row in reliability(conf, by_majority)}
    for label, n, mean_conf, frac in reliability(conf, by_minority):
        table.add(label, n, mean_conf, frac, majority[label])
    return table


def passage_parts() -> dict[str, Callable[[Context], Section]]:
    return {"passages": protocol, "natural": natural}
