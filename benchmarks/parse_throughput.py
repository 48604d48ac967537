"""Parse throughput of claim extraction on news text: sentences/s and words/s (CPU).

Times ``claimmatch.claims.extract_claims`` (spaCy parse + proposition rules) on the cleaned first N
Reuters-21578 articles, after loading the pipeline once (load time reported apart), and, for the record,
the bare spaCy parse of the same sentences with and without the NER component (which claims do not use).

    python -m benchmarks.parse_throughput [--data-dir ../shared/data] [--docs 1500] [--out docs/bench/parse.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    import spacy

    from claimmatch.claims import extract_claims
    from claimmatch.clean import clean_documents
    from claimmatch.ingest import iter_documents
    from claimmatch.parser import load_parser, model_dir
    from claimmatch.segment import split_sentences

    docs = clean_documents(list(itertools.islice(iter_documents([args.data_dir / "news" / "reuters21578.jsonl"]),
                                                 args.docs)))
    sentences = [d.text[a:b] for d in docs for a, b in split_sentences(d.text)] + [d.title for d in docs if d.title]
    words = sum(len(s.split()) for s in sentences)
    t0 = time.perf_counter()
    load_parser()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    claims = extract_claims(docs)
    extract_s = time.perf_counter() - t0
    with_ner = spacy.load(model_dir(), exclude=["senter"])
    t0 = time.perf_counter()
    for _ in with_ner.pipe(sentences, batch_size=256):
        pass
    ner_s = time.perf_counter() - t0
    result = {
        "benchmark": "claim extraction throughput (Reuters-21578)", "documents": len(docs),
        "sentences": len(sentences), "words": words, "claims": len(claims), "load_s": round(load_s, 2),
        "extract_s": round(extract_s, 2), "sentences_per_s": round(len(sentences) / extract_s, 1),
        "words_per_s": round(words / extract_s, 1),
        "spacy_with_ner_words_per_s": round(words / ner_s, 1),
        "cores": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
