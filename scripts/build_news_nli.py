"""Build the news adaptation set for fine-tuning the NLI model (written under runs/, never committed).

The base model learned from SNLI-style captions that two sentences describing different things
"contradict" (they describe one photo). News claims about one subject are mostly *neutral* to each
other, so the base model flags far too many pairs on news. This mixes, from ``--data-dir``:

- a replay sample of ``nli/train.jsonl`` (keeps the three-way skill),
- MRPC *train* pairs: paraphrase → entailment (both orders), non-paraphrase → neutral,
- STS-B *train* pairs: score ≥ 4.6 → entailment (both orders), score ≤ 1.0 → neutral,
- sentence pairs from different BBC News articles of one category that share a capitalised name → neutral,
- unrelated pairs (news sentences from different BBC categories, caption premises against news
  sentences) → neutral: the caption convention calls these "contradiction", news readers do not,
- synthetic news contradictions, made by rule from BBC sentences: the named agent of a sentence
  swapped for another named agent of the same article ("Blair backed the plan" / "Brown backed the
  plan": two accounts of who did it), and an auxiliary negated ("was in compliance" / "was not in
  compliance"). Each is also kept in its untouched form as an entailment of itself.

v2 (docs/NLI_MODEL.md) was built with ``--news-pairs 8000 --unrelated 0 --swaps 0 --negations 0
--paraphrase-share 1``; v3 with the defaults below.

MRPC/STS-B test and dev splits are not used (they score the duplicate detector), and no NLI eval file is.

    python scripts/build_news_nli.py --data-dir ../shared/data --out runs/news_nli.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def row(p: str, h: str, label: str, source: str) -> dict:
    return {"premise": p, "hypothesis": h, "label": label, "source": source, "split": "train"}


_AGENT = re.compile(
    r"^(?P<agent>(?:The |the )?[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3})"
    r"(?P<rest> (?:has |have |had |was |were |is |are |will |would |also |then )?[a-z]+(?:ed|s)\b.{12,})$"
)
_BY_AGENT = re.compile(r"(?P<head>.{12,}\b[a-z]+ed by )(?P<agent>(?:the )?[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3})(?P<tail>\b.*)$")
_AUX = re.compile(
    r"\b(?:(?:is|was|are|were) (?!to\b|not\b)(?=[a-z])|(?:has|have|had) (?=been\b|[a-z]+(?:ed|en)\b)"
    r"|(?:will|would|can|could|should|did|does) (?!not\b)(?=[a-z]))"
)
_NOT_AGENTS = {"The", "But", "In", "On", "At", "It", "This", "That", "He", "She", "They", "We", "I", "And", "However", "Mr", "Ms", "Mrs"}


def _proper(agent: str, article_text: str) -> bool:
    """A named agent: every word capitalised, none a function word, and seen capitalised mid-sentence."""
    words = [w for w in agent.split() if w.lower() != "the"]
    if not words or any(w in _NOT_AGENTS or not w[0].isupper() for w in words):
        return False
    return len(words) >= 2 or re.search(r"[a-z,] " + re.escape(words[0]) + r"\b", article_text) is not None


def _agents(sentences: list[str]) -> list[str]:
    text = " ".join(sentences)
    found = []
    for s in sentences:
        for rx in (_AGENT, _BY_AGENT):
            m = rx.match(s)
            if m and _proper(m.group("agent"), text):
                found.append(m.group("agent").removeprefix("the ").removeprefix("The "))
    return found


def agent_swap(sentence: str, article: list[str], rng: random.Random) -> tuple[str, str] | None:
    """The same sentence with its named agent replaced by another agent named in the article, or None."""
    text = " ".join(article)
    for rx in (_AGENT, _BY_AGENT):
        m = rx.match(sentence)
        if not m or not _proper(m.group("agent"), text):
            continue
        agent = m.group("agent")
        words = set(agent.lower().split()) - {"the"}
        others = sorted({a for a in _agents(article) if not set(a.lower().split()) & words})
        others = [a for a in others if a.lower() not in sentence.lower()]
        if not others:
            return None
        other = rng.choice(others)
        if rx is _AGENT:
            return sentence, other + m.group("rest")
        return sentence, m.group("head") + other + m.group("tail")
    return None


def negate(sentence: str) -> str | None:
    """Insert "not" after the first auxiliary ("was in compliance" -> "was not in compliance"), or None."""
    if re.search(r"\b(not|n't|never|no)\b", sentence):
        return None
    m = _AUX.search(sentence)
    if not m or m.start() > len(sentence) * 0.6:
        return None
    return sentence[: m.end()] + "not " + sentence[m.end():]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/news_nli.jsonl"))
    ap.add_argument("--replay", type=int, default=24000, help="rows sampled from nli/train.jsonl")
    ap.add_argument("--news-pairs", type=int, default=2000, help="same-category cross-article pairs → neutral")
    ap.add_argument("--unrelated", type=int, default=3000, help="cross-category / cross-domain pairs → neutral")
    ap.add_argument("--swaps", type=int, default=3000, help="agent-swap contradictions")
    ap.add_argument("--negations", type=int, default=2000, help="auxiliary-negation contradictions")
    ap.add_argument("--paraphrase-share", type=float, default=0.5, help="share of MRPC/STS-B train rows kept")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out: list[dict] = []
    train = [json.loads(x) for x in (args.data_dir / "nli" / "train.jsonl").read_text(encoding="utf-8").splitlines()
             if x.strip()]
    out += rng.sample(train, min(args.replay, len(train)))
    for r in tsv(args.data_dir / "paraphrase" / "mrpc.tsv"):
        if r["split"] != "train" or rng.random() >= args.paraphrase_share:
            continue
        a, b = r["sentence1"], r["sentence2"]
        if r["label"] == "1":
            out += [row(a, b, "entailment", "MRPC-train"), row(b, a, "entailment", "MRPC-train")]
        else:
            out.append(row(a, b, "neutral", "MRPC-train"))
    for r in tsv(args.data_dir / "paraphrase" / "stsb.tsv"):
        if r["split"] != "train" or rng.random() >= args.paraphrase_share:
            continue
        score = float(r["score"])
        a, b = r["sentence1"], r["sentence2"]
        if score >= 4.6:
            out += [row(a, b, "entailment", "STSB-train"), row(b, a, "entailment", "STSB-train")]
        elif score <= 1.0:
            out.append(row(a, b, "neutral", "STSB-train"))
    from claimmatch.segment import split_sentences

    by_cat: dict[str, list[tuple[str, str, frozenset[str]]]] = defaultdict(list)
    with (args.data_dir / "news" / "bbc_news.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            art = json.loads(line)
            text = art["text"]
            for a, b in split_sentences(text):
                s = " ".join(text[a:b].split())
                names = frozenset(w for w in re.findall(r"\b[A-Z][a-z]{2,}\b", s[1:]) if w not in {"The", "But"})
                if 8 <= len(s.split()) <= 40 and not s.endswith("?") and names:
                    by_cat[art["label"]].append((art["id"], s, names))
    cats = sorted(by_cat)
    made, tries = 0, 0
    while made < args.news_pairs and tries < args.news_pairs * 50:
        tries += 1
        pool = by_cat[rng.choice(cats)]
        x, y = rng.choice(pool), rng.choice(pool)
        if x[0] == y[0] or not (x[2] & y[2]):
            continue
        out.append(row(x[1], y[1], "neutral", "BBC-news-pairs"))
        made += 1
    captions = [r["premise"] for r in train if r["source"] in {"SICK", "SNLI-counterfactual(CAD)", "MPE"}]
    for i in range(args.unrelated):
        ca, cb = rng.sample(cats, 2)
        x = rng.choice(by_cat[ca])[1]
        y = rng.choice(captions) if i % 3 == 0 else rng.choice(by_cat[cb])[1]
        out.append(row(x, y, "neutral", "unrelated") if i % 2 else row(y, x, "neutral", "unrelated"))
    sentences = [(doc, s) for cat in cats for doc, s, _ in by_cat[cat]]
    by_doc: dict[str, list[str]] = defaultdict(list)
    for doc, s in sentences:
        by_doc[doc].append(s)
    swaps = [r for doc, s in sentences if (r := agent_swap(s, by_doc[doc], rng))]
    for s, t in rng.sample(swaps, min(args.swaps, len(swaps))):
        out.append(row(s, t, "contradiction", "news-agent-swap"))
        if rng.random() < 1 / 3:
            out.append(row(s, s, "entailment", "news-agent-swap"))
    negs = [(s, t) for _, s in sentences if (t := negate(s))]
    for s, t in rng.sample(negs, min(args.negations, len(negs))):
        out.append(row(s, t, "contradiction", "news-negation") if rng.random() < 0.5
                   else row(t, s, "contradiction", "news-negation"))
    rng.shuffle(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for r in out:
        counts[f"{r['source']}:{r['label']}"] += 1
    print(json.dumps({"rows": len(out), "by_source_label": dict(sorted(counts.items()))}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
