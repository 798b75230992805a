"""Compare offline language identifiers for forewarn's "not checked: language" verdict.

Measures, for py3langid and lingua-language-detector (whichever are installed):

* load time (import and first classification, in a fresh process; median of several);
* accuracy on short texts (one sentence, 8-20 words) and long texts (a passage of
  80-120 words) written for this benchmark in English, French, German, Spanish, Italian,
  Dutch and Portuguese, plus English passages of the public-domain corpus (where
  ../shared/data is present: period prose, dialect, translations, which a detector must
  not call foreign);
* time per passage.

Usage: .venv/bin/python bench/bench_language.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Short sentences written for this benchmark (not quoted from anywhere).
SHORT = {
    "fr": [
        "Elle a fermé la porte derrière elle et n'a plus jamais parlé de cette nuit.",
        "Le médecin nous a dit qu'il n'y avait plus de battement de cœur.",
        "Il pleuvait sur la gare quand le dernier train est parti sans lui.",
        "Ma grand-mère gardait les lettres de son frère dans une boîte en fer.",
        "Nous avons marché jusqu'au phare sans dire un mot.",
    ],
    "de": [
        "Sie schloss die Tür hinter sich und sprach nie wieder über jene Nacht.",
        "Der Arzt sagte uns, dass kein Herzschlag mehr zu hören war.",
        "Es regnete auf den Bahnhof, als der letzte Zug ohne ihn abfuhr.",
        "Meine Großmutter bewahrte die Briefe ihres Bruders in einer Blechdose auf.",
        "Wir gingen schweigend bis zum Leuchtturm hinunter.",
    ],
    "es": [
        "Cerró la puerta detrás de ella y nunca volvió a hablar de aquella noche.",
        "El médico nos dijo que ya no había latido.",
        "Llovía sobre la estación cuando el último tren se fue sin él.",
        "Mi abuela guardaba las cartas de su hermano en una caja de lata.",
        "Caminamos hasta el faro sin decir una palabra.",
    ],
    "it": [
        "Chiuse la porta dietro di sé e non parlò mai più di quella notte.",
        "Il medico ci disse che non c'era più battito.",
        "Pioveva sulla stazione quando l'ultimo treno partì senza di lui.",
        "Mia nonna teneva le lettere di suo fratello in una scatola di latta.",
        "Camminammo fino al faro senza dire una parola.",
    ],
    "nl": [
        "Ze deed de deur achter zich dicht en sprak nooit meer over die nacht.",
        "De dokter zei dat er geen hartslag meer was.",
        "Het regende op het station toen de laatste trein zonder hem vertrok.",
        "Mijn grootmoeder bewaarde de brieven van haar broer in een blikken doos.",
        "We liepen zwijgend naar de vuurtoren.",
    ],
    "pt": [
        "Ela fechou a porta atrás de si e nunca mais falou daquela noite.",
        "O médico disse-nos que já não havia batimento.",
        "Chovia na estação quando o último comboio partiu sem ele.",
        "A minha avó guardava as cartas do irmão numa caixa de lata.",
        "Caminhámos até ao farol sem dizer uma palavra.",
    ],
    "en": [
        "She shut the door behind her and never spoke of that night again.",
        "The doctor told us there was no heartbeat any more.",
        "It was raining on the station when the last train left without him.",
        "Gran kept her brother's letters in a biscuit tin under the bed.",
        "We walked down to the lighthouse without a word.",
        "omg r u coming 2nite?? cant do this alone lol",
    ],
}


def long_texts() -> dict[str, list[str]]:
    """Passages of 5 sentences: each language's sentences joined, rotated."""
    out: dict[str, list[str]] = {}
    for lang, sents in SHORT.items():
        out[lang] = [" ".join(sents[i:] + sents[:i]) for i in range(len(sents))]
    return out


def corpus_english(n: int = 300) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
    try:
        from annotate import load_sample, passage_text
    except Exception:
        return []
    try:
        rows = load_sample()[:n]
        return [passage_text(r["id"])[1] for r in rows]
    except (OSError, KeyError):
        return []


def _py3langid():
    import py3langid

    return lambda text: py3langid.classify(text)[0]


def _lingua():
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def classify(text: str) -> str:
        lang = detector.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang else "??"

    return classify


def _forewarn():
    from forewarn.language import passage_language

    return lambda text: passage_language(text) or "??"


DETECTORS = {"py3langid": _py3langid, "lingua": _lingua, "forewarn": _forewarn}
LOAD = {
    "py3langid": "import py3langid; py3langid.classify('a short test sentence')",
    "lingua": ("from lingua import LanguageDetectorBuilder; "
               "LanguageDetectorBuilder.from_all_languages().build()"
               ".detect_language_of('a short test sentence')"),
    "forewarn": "from forewarn.language import passage_language; passage_language('a short test')",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    english = corpus_english()
    results = {}
    for name, make in DETECTORS.items():
        try:
            classify = make()
        except ImportError:
            print(f"{name}: not installed")
            continue
        loads = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", LOAD[name]], check=True)
            loads.append(time.perf_counter() - t)
        row = {"load_s_median": round(statistics.median(loads), 3)}
        for kind, texts in (("short", SHORT), ("long", long_texts())):
            right = total = 0
            for lang, items in texts.items():
                for text in items:
                    total += 1
                    right += classify(text) == lang
            row[f"{kind}_accuracy"] = f"{right}/{total}"
        if english:
            t = time.perf_counter()
            said = [classify(text) for text in english]
            per = (time.perf_counter() - t) / len(english)
            row["corpus_english_called_english"] = f"{sum(s == 'en' for s in said)}/{len(said)}"
            row["ms_per_passage"] = round(per * 1000, 3)
        results[name] = row
        print(name, json.dumps(row))


if __name__ == "__main__":
    main()
