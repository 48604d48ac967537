"""Who did it: claims giving the same act on the same target to different agents, from claim frames.

Outlets disagree most often about *who* did something (broke the truce, shelled the town, leaked the
memo), and an NLI model calls such pairs neutral: both sentences can be true. The claims table gives
each claim a frame (``agent``, ``predicate`` lemma, ``patient``); two asserted, non-negated claims from
different outlets conflict when their predicates are the same lemma or their verb phrases (predicate +
patient) are close by embedding, their
patients are the same thing (embedding similarity), their agents are different parties (embedding
similarity below a threshold), and the claims themselves are about one subject. Whatever the verb.

Each frame keeps the frames whose targets are most similar to its own (:func:`target_partners`). That
pass was all frames against all frames; it now runs once per distinct target vector, finds the cells at
or above the threshold with a bfloat16 product where the CPU has one, computes those in float32 as
before, and breaks ties as before, so the pairs are the same; its cells are stored with an index, so
``contradictions --index`` after ``index add`` compares only target phrases it has not seen.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch.judge import antonyms, fact_values, head_word, phrase_words, values_conflict

# Verbs that say nothing about who did something: copulas, possession, reporting, light verbs.
LIGHT_VERBS = frozenset(
    "be have do say tell make take get go come give put seem become appear remain know think see want need "
    "use include mean let keep begin start continue try".split())
PRONOUNS = frozenset("it he she they we i you him her them us me this that these those which who what there "
                      "one some all both each others".split())
_DETERMINERS = frozenset("the a an its their his her our your this that these those some".split())


def normalize(phrase: str, hyphen: str = "") -> str:
    """Lower case, no leading determiner, hyphens joined ("The cease-fire" → "ceasefire") or, for parties,
    spaced ("Nusra-linked rebels" → "nusra linked rebels": "nusralinked" is no word to the embedder, which
    then reads the phrase as "rebels" alone)."""
    words = re.findall(r"[\w’']+", phrase.lower().replace("-", hyphen))
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    return " ".join(words)


_LEADING_DETERMINERS = r"^(?:(?:" + "|".join(sorted(_DETERMINERS)) + r")(?: |$))+"


def normalized(phrases: pl.Expr, hyphen: str = "") -> pl.Expr:
    """:func:`normalize` as a polars expression, for a column of phrases at once (null stays null)."""
    return (phrases.str.to_lowercase().str.replace_all("-", hyphen, literal=True).str.extract_all(r"[\w’']+")
            .list.join(" ").str.replace(_LEADING_DETERMINERS, ""))


def _is_party(phrase: str | None) -> bool:
    norm = normalize(phrase or "")
    return bool(norm) and norm not in PRONOUNS


_PARTY_NOUNS = Path(__file__).resolve().parent.parent / "lexicon" / "party_nouns.json"
_INDEFINITE = frozenset("a an some any many several few more most much no another".split())
_DEFINITE = frozenset("the this that these those".split())
# "his ankle", "her place", "their jobs": each doer's own, so two doers act on two things
_OWN = frozenset("its their his her our my your".split())


_SYNONYMS = Path(__file__).resolve().parent.parent / "lexicon" / "noun_synonyms.json"


@functools.cache
def _synonyms() -> dict[str, frozenset[str]]:
    """Word → the words that share a WordNet sense with it (scripts/build_lexicon.py), hyphens dropped."""
    out: dict[str, set[str]] = {}
    for group in json.loads(_SYNONYMS.read_text(encoding="utf-8"))["groups"]:
        for word in group:
            out.setdefault(word, set()).update(group)
    return {w: frozenset(g) for w, g in out.items()}


@functools.lru_cache(maxsize=1 << 16)
def _content_words(phrase: str | None) -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    words = (w.removesuffix("'s").removesuffix("’s").strip("'’") for w in normalize(phrase or "").split())
    return frozenset(w for w in words if w and w not in STOP_WORDS)


def _same_word(w: str, v: str) -> bool:
    """One word under two spellings or as synonyms: "forces" / "force", "Syria" / "Syrian", "truce" /
    "ceasefire". Not "actress" / "actor", "Everton" / "Arsenal"."""
    if w == v or not _singulars(w).isdisjoint(_singulars(v)):
        return True
    if min(len(w), len(v)) >= 4 and (w.startswith(v) or v.startswith(w)):
        return True
    return v in _synonyms().get(w, frozenset())


def one_target_in_words(a: str | None, b: str | None) -> bool:
    """Whether two target phrases can name one thing by their words: every content word of one is a word of
    the other, or its synonym ("The ceasefire" / "the ceasefire agreement in Syria", "the Aleppo truce" /
    "the Aleppo ceasefire", "the Athens Olympics" / "the Olympics"). Embeddings put a category next to its
    neighbours ("best actress" / "best actor" 0.8, "the best actress award" / "the best film award",
    "Everton's best chance" / "Arsenal's best chance"): two prizes, two chances, two acts."""
    wa, wb = _content_words(a), _content_words(b)

    def covered(x: frozenset[str], y: frozenset[str]) -> bool:
        return all(any(_same_word(w, v) for v in y) for w in x)

    return not wa or not wb or covered(wa, wb) or covered(wb, wa)


_SPEECH_VERBS = Path(__file__).resolve().parent.parent / "lexicon" / "speech_verbs.json"


@functools.cache
def speech_verbs() -> frozenset[str]:
    """Verbs whose every WordNet sense is a speech act ("accuse", "urge", "warn"): two speakers who accuse one
    party made two statements, not two accounts of one deed (scripts/build_lexicon.py)."""
    return frozenset(json.loads(_SPEECH_VERBS.read_text(encoding="utf-8"))["verbs"])


@functools.cache
def party_nouns() -> frozenset[str]:
    """Nouns with a WordNet 3.0 sense that names a person or a group, and weapons and military craft
    (scripts/build_lexicon.py)."""
    return frozenset(json.loads(_PARTY_NOUNS.read_text(encoding="utf-8"))["nouns"])


def _name_words(names: list[str] | None) -> set[str]:
    return {w.lower() for name in names or [] for w in phrase_words(name)}


def _singulars(word: str) -> set[str]:
    """The word and what it would be without a plural ending ("forces" → "force", "parties" → "party")."""
    forms = {word}
    if word.endswith("s"):
        forms.add(word[:-1])
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    return forms


def is_doer(agent: str | None, names: list[str] | None) -> bool:
    """Whether an agent phrase names someone who can have done something: a name (its head is a word of one
    of the claim's ``names``: "Yukos", "al-Nusra"), a noun with a person or group sense ("the regime
    forces", "extremist groups", "the firm"), or a weapon or military craft, which stands for whoever used
    it ("Russian jets", "a car bomb"). "Who did it" is asked of parties: two different causes ("the
    poor summer weather" / "the popularity of the Atkins diet" hit sales; "consumer spending" / "export
    sales" drove growth) or two works ("Oscar-nominated euthanasia film" / "Alexander Payne" won) are not
    two accounts of one doer."""
    head = head_word(phrase_words(agent)).lower().strip(".")
    if not head:
        return False
    return head in _name_words(names) or not party_nouns().isdisjoint(_singulars(head))


def is_one_thing(patient: str | None, names: list[str] | None = None, headline: bool = False) -> bool:
    """Whether a target phrase picks out one thing, so that two accounts of an act on it can be accounts of
    one event: a definite phrase or one owned by a name ("the ceasefire", "Yukos' main production arm"), a
    name, a bare singular ("cease-fire", headline style). Not an indefinite or a quantity ("a jail
    sentence", "an interesting challenge", "$300 million"), nor a bare plural ("interest rates",
    "bonuses"): many parties raise rates, each its own; nor the doer's own ("his ankle", "its benchmark
    interest rate", "her place"): two doers, two ankles. ``names``: the claim's
    entities, so "Yukos" is a name, not a plural. In a ``headline``, which drops "a" as readily as "the", a
    bare singular is one thing only with a name in it ("Aleppo Cease-fire", "Gates Nomination"): "CINCINNATI
    BELL SETS STOCK SPLIT" and "ALCAN ALUMINIUM SETS STOCK SPLIT" are two splits."""
    words = [w.lower() for w in phrase_words(patient)]
    if not words or words[0] in _INDEFINITE | _OWN or words[0][0].isdigit() or words[0][0] in "$£€%":
        return False
    if words[0] in _DEFINITE or any(w.endswith(("'s", "’s", "s'", "s’")) for w in words):
        return True
    head, name_words = head_word(words).strip("."), _name_words(names)
    if head in name_words:
        return True
    singular = not (head.endswith("s") and not head.endswith(("ss", "us", "is")))
    return singular and (not headline or not name_words.isdisjoint(w.strip(".") for w in words))


@dataclass
class FramePairs:
    """Row pairs (i, j) whose frames conflict; ``targets``: the target cells at or above the threshold by
    phrase (TARGET_SCHEMA), which a later run passes back as ``known_targets``."""

    i: np.ndarray
    j: np.ndarray
    targets: pl.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.i)


@dataclass
class KnownCells:
    """Cells at or above the target threshold between distinct target vectors (``a <= b``, float32
    similarities), over groups whose first frame is ``first``; ``seen``: per group, whether its cells
    with every other seen group are here (an incremental run computes only the rows of the others)."""

    first: np.ndarray
    a: np.ndarray
    b: np.ndarray
    sim: np.ndarray
    seen: np.ndarray


def eligible_rows(claims: pl.DataFrame) -> np.ndarray:
    """Claims whose frame names an act (not a light verb, nor a speech act: :func:`speech_verbs`), one target
    (:func:`is_one_thing`) and a party that did it (:func:`is_doer`), asserted and not negated."""
    # the column tests on arrays first, the phrase tests on the rows left
    maybe = claims.select(
        pl.col("predicate").str.len_chars().fill_null(0).gt(0)
        & ~pl.col("predicate").str.to_lowercase().is_in(list(LIGHT_VERBS | speech_verbs())).fill_null(False)
        & ~pl.col("negated").fill_null(False) & pl.col("stance").fill_null("asserts").eq("asserts")
        & pl.col("agent").is_not_null() & pl.col("patient").is_not_null()).to_series()
    candidates = np.flatnonzero(maybe.to_numpy())
    picked = claims.select("agent", "patient", *(c for c in ("entities", "is_title") if c in claims.columns))[
        candidates.tolist()]
    names = picked["entities"].to_list() if "entities" in picked.columns else [None] * len(picked)
    titles = picked["is_title"].fill_null(False).to_list() if "is_title" in picked.columns else [False] * len(picked)
    rows = [int(k) for k, agent, patient, n, title in zip(candidates, picked["agent"].to_list(),
                                                          picked["patient"].to_list(), names, titles, strict=True)
            if _is_party(agent) and _is_party(patient) and is_doer(agent, n) and is_one_thing(patient, n, title)]
    return np.asarray(rows, dtype=np.int64)


def _codes(values: list[str]) -> list[int]:
    """An integer per value, equal for equal values (so equality is tested on arrays)."""
    seen: dict[str, int] = {}
    return [seen.setdefault(v, len(seen)) for v in values]


# The bfloat16 pre-pass's similarities are within 0.006 of the float32 ones for unit vectors (inputs
# rounded to 8 significant bits, float32 sums, a bfloat16 result); cells this far below the threshold and
# above are computed again in float32.
_BF16_MARGIN = 1 / 64
TARGET_SCHEMA = {"target_a": pl.String, "target_b": pl.String, "similarity": pl.Float32}
_EXACT_ROWS = 64  # rows per float32 product over the cells the bf16 pass kept
_BF16_MIN_TARGETS = 4096
_TEST_PAIRS = 8_192  # pairs given the embedding tests at once (6 float32 vectors each: 9 KiB at 384-d)


def _row_groups(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first, inverse, counts, members): one group per distinct vector (byte-equal rows), its first row, each
    row's group, the group sizes and the rows of each group in group order (``members`` cut by ``counts``)."""
    flat = np.ascontiguousarray(vectors).view(np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    return first, inverse, np.bincount(inverse, minlength=len(first)), np.argsort(inverse, kind="stable")


def _expand(owner: np.ndarray, group: np.ndarray, counts: np.ndarray, starts: np.ndarray,
            members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, row) for every row of each ``group``: the pairs (o, g) spelled out over g's members."""
    lens = counts[group]
    total = int(lens.sum())
    offsets = np.repeat(starts[group] - (np.cumsum(lens) - lens), lens)
    return np.repeat(owner, lens), members[offsets + np.arange(total, dtype=np.int64)]


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` through BLAS's blocked gemm whatever the shapes. BLAS sums a cell's products in another
    order for one row (gemv) or a small product (OpenBLAS's small-matrix kernel, up to 100³ multiply-adds)
    than in its blocked kernel, whose cells do not depend on the other rows and columns; the all-pairs
    pass used the blocked kernel from about 52 frames up, so padding to at least 16 × 512 keeps every
    similarity bit for bit (below that, a cell may differ in its last bit, as between BLAS builds)."""
    m, n = len(a), len(b)
    if m < 16:
        a = np.concatenate([a, np.zeros((16 - m, a.shape[1]), a.dtype)])
    if n < 512:
        b = np.concatenate([b, np.zeros((512 - n, b.shape[1]), b.dtype)])
    return (a @ b.T)[:m, :n]


def _true_cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a mostly-false 2-d mask, in the same (row-major) order, three times as fast: it
    looks for the non-zero 8-byte words first."""
    flat = np.ascontiguousarray(mask).reshape(-1)
    body = len(flat) - len(flat) % 8
    words = np.flatnonzero(flat[:body].view(np.uint64))
    cells = (words[:, None] * 8 + np.arange(8)).ravel()
    cells = np.concatenate([cells[flat[cells]], body + np.flatnonzero(flat[body:])])
    rows, cols = np.divmod(cells, mask.shape[1])
    return rows, cols


@functools.cache
def fast_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX-512 BF16), where torch's bf16
    product is several times faster than float32 (4-5× on the Xeon of docs/BENCHMARKS.md); elsewhere
    bf16 is emulated and slower."""
    try:
        import torch  # noqa: F401
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except (ImportError, OSError):
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def _cells_above(uniq: np.ndarray, rows: np.ndarray, threshold: float, max_cells: int,
                 bf16: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, similarity) of the cells at or above ``threshold`` of ``rows`` (ascending) against every
    target, sorted by (u, v), similarities in float32 (a bf16 product only finds where to look)."""
    m = len(uniq)
    if bf16:
        import torch

        low = torch.from_numpy(np.asarray(uniq, np.float32)).to(torch.bfloat16)
        # the bound grows with the norms (unit vectors from the embedder; longer ones in tests)
        margin = _BF16_MARGIN * max(1.0, float(np.einsum("ij,ij->i", uniq, uniq, dtype=np.float64).max()))
        floor = float(torch.tensor(threshold - margin).to(torch.bfloat16))
        if floor > threshold - margin:  # rounded up: one bf16 step lower (at most 2^-7 below 1)
            floor -= 2.0 ** -7 * max(1.0, abs(floor))
    out_u, out_v, out_s = [], [], []
    block = max(2, (4 if bf16 else 1) * max_cells // m)  # a bf16 cell and its flag: 3 bytes, a float32 one 5
    for start in range(0, len(rows), block):
        sub = rows[start:start + block]
        if bf16:
            near = torch.ge(low[torch.from_numpy(sub)] @ low.T, floor).numpy()  # compared in bf16: floor is one
            cu, cv = _true_cells(near)
            del near
            sims = np.empty(len(cu), uniq.dtype)
            # float32 values of the cells the bf16 pass kept, by chunks of rows over their kept columns
            bounds = np.searchsorted(cu, np.arange(0, len(sub) + _EXACT_ROWS, _EXACT_ROWS))
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                if a == b:
                    continue
                cols, where = np.unique(cv[a:b], return_inverse=True)
                r0 = int(cu[a])
                exact = _gemm(uniq[sub[r0:int(cu[b - 1]) + 1]], uniq[cols])
                sims[a:b] = exact[cu[a:b] - r0, where.ravel()]
            keep = ~(sims < threshold)
            cu, cv, sims = cu[keep], cv[keep], sims[keep]
        else:
            exact = _gemm(uniq[sub], uniq)
            cu, cv = _true_cells(~(exact < threshold))
            sims = exact[cu, cv]
            del exact
        out_u.append(sub[cu])
        out_v.append(cv)
        out_s.append(sims)
    if not out_u:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, uniq.dtype)
    return np.concatenate(out_u), np.concatenate(out_v), np.concatenate(out_s)


def target_partners(targets: np.ndarray, k: int, threshold: float, *, max_cells: int = 2_000_000,
                    bf16: bool | None = None,
                    known: Callable[[np.ndarray, np.ndarray], KnownCells] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, KnownCells]:
    """Frame pairs (x, y), x != y, where y is among the ``k`` frames (x itself included) whose targets are
    most similar to x's and that similarity is at least ``threshold``: the first test of who-did-it.
    Also returns every cell at or above the threshold between distinct targets, for a later run.

    What the all-pairs pass gave (argpartition of each frame's row of similarities), without that pass:
    frames with byte-equal target vectors share one row, so rows are computed per distinct target; a
    target whose frames at or above the threshold number at most k keeps them all, whatever the ties
    (they are the top k of any selection); one with more keeps the top k, and only where ties straddle
    the k-th place is its whole row built to break them as argpartition did. Which cells reach the
    threshold is found with a bfloat16 product where the CPU has one (``bf16`` None: ask
    :func:`fast_bf16`); cells within its error bound of the threshold and above are then computed in
    float32 like the rest, so the bound decides nothing. ``known(first, inverse)``, given each distinct
    target's first frame and each frame's target: the cells among the targets it marks as seen before,
    taken as they are (only the rows of the others are computed).
    """
    n = len(targets)
    first, inverse, counts, members = _row_groups(targets)
    starts = np.cumsum(counts) - counts
    uniq = np.ascontiguousarray(targets[first])
    m = len(uniq)
    empty = np.zeros(0, np.int64)
    if n < 2:
        return empty, empty, KnownCells(first, empty, empty, np.zeros(0, np.float32), np.ones(m, bool))
    if bf16 is None:  # below a few thousand targets the float32 product is quicker than setting bf16 up
        bf16 = fast_bf16() and m >= _BF16_MIN_TARGETS
    if known is not None:
        known = known(first, inverse)
    seen = np.zeros(m, bool) if known is None else known.seen
    cu, cv, sims = _cells_above(uniq, np.flatnonzero(~seen), threshold, max_cells, bf16)
    if known is not None and seen.any():
        back = seen[cv]  # a seen row's cells with the unseen targets, from their rows
        pair = known.a != known.b
        cu, cv = (np.concatenate([cu, cv[back], known.a, known.b[pair]]),
                  np.concatenate([cv, cu[back], known.b, known.a[pair]]))
        sims = np.concatenate([sims, sims[back], known.sim, known.sim[pair]]).astype(uniq.dtype)
        order = np.lexsort((cv, cu))
        cu, cv, sims = cu[order], cv[order], sims[order]
    half = cu <= cv
    cells = KnownCells(first, cu[half], cv[half], sims[half].astype(np.float32), np.ones(m, bool))
    reach = np.bincount(cu, weights=counts[cv], minlength=m)  # frames at or above, per row
    sparse = reach[cu] <= k
    own_g, own_rows = [cu[sparse]], [cv[sparse]]  # group -> group pairs
    own_f, own_frames = [], []  # group -> frame pairs
    tied: list[int] = []
    bounds = np.searchsorted(cu, np.arange(m + 1))
    for u in np.flatnonzero(reach > k).tolist():
        v, s = cv[bounds[u]:bounds[u + 1]], sims[bounds[u]:bounds[u + 1]]
        order = np.argsort(-s, kind="stable")
        v, s = v[order], s[order]
        upto = np.cumsum(counts[v])
        kth = s[np.searchsorted(upto, k)]  # the k-th largest similarity of the row, counting frames
        if upto[np.searchsorted(-s, -kth, side="right") - 1] == k:  # no tie straddles the k-th place
            top = v[s >= kth]
            own_g.append(np.full(len(top), u))
            own_rows.append(top)
            continue
        tied.append(u)
    step = max(16, max_cells // m)
    for start in range(0, len(tied), step):  # rows whose ties straddle the k-th place, whole
        block = _gemm(uniq[tied[start:start + step]], uniq)
        for u, full in zip(tied[start:start + step], block, strict=True):
            row = -full[inverse]
            top = np.argpartition(row, k - 1)[:k]
            top = top[~(-row[top] < threshold)]
            own_f.append(np.full(len(top), u))
            own_frames.append(top)
    g, v = np.concatenate(own_g), np.concatenate(own_rows)
    g_f, y_f = _expand(g, v, counts, starts, members)
    g_f = np.concatenate([g_f, *own_f]).astype(np.int64)
    y_f = np.concatenate([y_f, *own_frames]).astype(np.int64)
    pair, x = _expand(np.arange(len(g_f)), g_f, counts, starts, members)
    y = y_f[pair]
    keep = x != y
    return x[keep], y[keep], cells


def frame_pairs(claims: pl.DataFrame, clusters: np.ndarray, claim_vectors: np.ndarray,
                encode: Callable[[list[str]], np.ndarray], *, predicate_threshold: float, target_threshold: float,
                agent_threshold: float, subject_threshold: float, other_verb_claim_threshold: float = 0.45,
                within_outlet: bool = False, max_partners: int = 50, max_cells: int = 2_000_000,
                bf16: bool | None = None, known_targets: pl.DataFrame | None = None,
                verb_threshold: float | None = None) -> FramePairs:
    """Pairs of claims giving the same act on the same target to different agents.

    ``encode`` returns L2-normalised vectors (the run's embedder), so similarities are dot products.
    Each frame is compared with the ``max_partners`` frames whose targets are most similar
    (:func:`target_partners`, which holds at most ``max_cells`` similarities at a time and takes ``bf16``).
    ``known_targets``: the ``targets`` of an earlier run with the same embedder and target threshold;
    only the targets it lacks are compared with all the others. ``verb_threshold``: two different verbs must
    also be this close on their own and not antonyms (:func:`_other_act`); None: not asked.
    """
    rows = eligible_rows(claims)
    if len(rows) < 2:
        return FramePairs(np.zeros(0, np.int64), np.zeros(0, np.int64), pl.DataFrame(schema=TARGET_SCHEMA))
    pick = rows.tolist()
    agent_col, pred_col, patient_col = (claims[c].to_list() for c in ("agent", "predicate", "patient"))
    agents_n = [normalize(agent_col[r], hyphen=" ") for r in pick]
    preds = [pred_col[r].lower() for r in pick]
    patients_n = [normalize(patient_col[r]) for r in pick]
    patients = encode(patients_n)
    agents = encode(agents_n)
    # Two different verbs name one act when their verb phrases ("violate ceasefire" / "breach ceasefire")
    # are close: single-word embeddings cannot tell "violate"/"breach" (0.43) from "help"/"result" (0.43).
    acts = [f"{p} {t}" for p, t in zip(preds, patients_n, strict=True)]
    act_vec = encode(acts)
    outlets = np.asarray(claims["outlet"].to_list(), dtype=object)
    cl = np.asarray(clusters)
    agent_code = np.asarray(_codes(agents_n), dtype=np.int64)
    known = None
    if known_targets is not None and len(known_targets):
        def known(first: np.ndarray, inverse: np.ndarray) -> KnownCells:
            return _known_cells(known_targets, patients_n, first, inverse)
    xs, ys, cells = target_partners(np.asarray(patients), min(max_partners + 1, len(rows)), target_threshold,
                                    max_cells=max_cells, bf16=bf16, known=known)
    texts = pl.Series([patients_n[f] for f in cells.first.tolist()], dtype=pl.String)
    targets = pl.DataFrame({"target_a": texts.gather(cells.a), "target_b": texts.gather(cells.b),
                            "similarity": cells.sim}, schema=TARGET_SCHEMA)
    # The cheap tests on every (frame, partner) at once: another agent, another cluster and outlet; each
    # pair left is kept once and gets the embedding tests, on arrays.
    keep = agent_code[xs] != agent_code[ys]
    lo, hi = np.minimum(rows[xs], rows[ys]), np.maximum(rows[xs], rows[ys])
    keep &= cl[lo] != cl[hi]
    if not within_outlet:
        keep &= outlets[lo] != outlets[hi]
    codes = np.unique(lo[keep] * len(claims) + hi[keep])
    del xs, ys, lo, hi, keep
    tests = (agents, act_vec, claim_vectors, preds, (agent_threshold, subject_threshold, predicate_threshold,
                                                      other_verb_claim_threshold),
             (_max_norm(agents), _max_norm(claim_vectors, rows), _max_norm(act_vec)))
    found: list[np.ndarray] = []
    for start in range(0, len(codes), _TEST_PAIRS):
        i, j = codes[start:start + _TEST_PAIRS] // len(claims), codes[start:start + _TEST_PAIRS] % len(claims)
        ok = _embedding_tests(np.searchsorted(rows, i), np.searchsorted(rows, j), i, j, *tests)
        found.append(codes[start:start + _TEST_PAIRS][ok])
    kept = np.concatenate(found) if found else np.zeros(0, np.int64)
    kept = kept[~_other_event(claims, kept // len(claims), kept % len(claims))]
    kept = kept[~_names_other_agent(claims, kept // len(claims), kept % len(claims))]
    kept = kept[[one_target_in_words(patient_col[a], patient_col[b])
                 for a, b in zip((kept // len(claims)).tolist(), (kept % len(claims)).tolist(), strict=True)]]
    if verb_threshold is not None:
        fa, fb = np.searchsorted(rows, kept // len(claims)), np.searchsorted(rows, kept % len(claims))
        kept = kept[~_other_act([preds[f] for f in fa.tolist()], [preds[f] for f in fb.tolist()], encode,
                                verb_threshold)]
    return FramePairs(kept // len(claims), kept % len(claims), targets)


def _other_act(pa: list[str], pb: list[str], encode: Callable[[list[str]], np.ndarray],
               threshold: float) -> np.ndarray:
    """Which pairs of verbs (``pa[k]``, ``pb[k]``) name two acts: antonyms (win / lose,
    :func:`claimmatch.judge.antonyms`), or verbs less than ``threshold`` alike on their own. Their verb
    phrases passed the act test through the target they share, which phrase embeddings weigh more than the
    verb ("cover the surface of Titan" / "lift the veil from the surface of Titan", "offer camcorders" /
    "release camcorders")."""
    out = np.zeros(len(pa), dtype=bool)
    differ = [k for k in range(len(pa)) if pa[k] != pb[k]]
    if not differ:
        return out
    words = sorted({pa[k] for k in differ} | {pb[k] for k in differ})
    vec = np.asarray(encode(words), np.float32)
    slot = {w: n for n, w in enumerate(words)}
    for k in differ:
        a, b = pa[k], pb[k]
        out[k] = antonyms(a, b) or float(vec[slot[a]] @ vec[slot[b]]) < threshold
    return out


def _other_event(claims: pl.DataFrame, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pairs whose claims give numbers (or dates) that do not fit together (:func:`claimmatch.judge.values_conflict`):
    two events, not two accounts of one ("Motorola to cut 1,000 jobs" / "Eli Lilly to cut 575 jobs";
    "violated the truce on Monday" / "broke it on Friday"). The same rule keeps such claims apart in the
    clustering judge's frames."""
    out = np.zeros(len(i), dtype=bool)
    rows = np.unique(np.concatenate([i, j])) if len(i) else np.zeros(0, np.int64)
    for col in ("numbers", "dates"):
        if col not in claims.columns or not len(i):
            continue
        values = dict(zip(rows.tolist(), (fact_values(col, x) for x in claims[col].gather(rows).to_list()),
                          strict=True))  # the pairs' rows only
        for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
            out[k] |= values_conflict(values[a], values[b], col)
    return out


def _names_other_agent(claims: pl.DataFrame, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pairs where one account may be naming the other's doer: then the two do not name different doers,
    whatever the parse took for each subject.

    - The claim names the other's doer among its own names ("Broadhurst leads in Spain" / "Broadhurst,
      Fichardt lead Open de Madrid": co-leaders; "Apple unveils super thin iMac" / "Ooh la la, Apple unveils
      new iMac": an interjection read as the subject).
    - Its doer is a description that refers back ("the firm", "The duo", "her director": a definite or
      possessive phrase with no name in it) and its document names the other's doer: "The firm had filed
      for bankruptcy" in an article on Yukos is Yukos, not a second party to "Yukos filed for bankruptcy".
      The other's doer must be a name at its head: "US-backed terrorist groups" are no name.

    A doer's names are the claim's entities inside its agent phrase; a name matches when the words of one
    hold the other's ("Apple" / "Apple Computer")."""
    out = np.zeros(len(i), dtype=bool)
    if "entities" not in claims.columns or not len(i):
        return out
    doc = "doc_id" if "doc_id" in claims.columns else "claim_id"
    rows = np.unique(np.concatenate([i, j])).tolist()
    picked = claims.select("agent", "entities", doc)[rows]  # the pairs' rows only, not the whole table
    agent_of = dict(zip(rows, picked["agent"].to_list(), strict=True))
    doc_of = dict(zip(rows, picked[doc].to_list(), strict=True))

    def words(text: str) -> frozenset[str]:
        return frozenset(normalize(text, hyphen=" ").split())

    def named_in(entities: list[str] | None) -> list[frozenset[str]]:
        return [w for w in (words(e) for e in entities or []) if w]

    names = {r: named_in(e) for r, e in zip(rows, picked["entities"].to_list(), strict=True)}
    doers = {r: [w for w in names[r] if w <= words(agent_of[r] or "")] for r in rows}
    refers_back = {r: not doers[r] and _refers_back(agent_of[r]) for r in rows}
    docs = sorted({doc_of[r] for r in rows if refers_back[r]})
    doc_names: dict[str, list[frozenset[str]]] = {d: [] for d in docs}
    if docs:  # the names anywhere in those documents
        in_docs = claims.filter(pl.col(doc).is_in(docs)).select(doc, "entities")
        for d, ents in zip(in_docs[doc].to_list(), in_docs["entities"].to_list(), strict=True):
            doc_names[d].extend(named_in(ents))

    def named(doer: list[frozenset[str]], others: list[frozenset[str]]) -> bool:
        return any(d <= o or o <= d for d in doer for o in others)

    def stands_for(a: int, b: int) -> bool:
        # b's doer is a name only if its head is ("Yukos", "Deutsche Bank"; not "US-backed terrorist groups")
        head = words(head_word(phrase_words(agent_of[b])))
        return refers_back[a] and named([w for w in doers[b] if head and head <= w], doc_names[doc_of[a]])

    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        out[k] = (named(doers[a], names[b]) or named(doers[b], names[a]) or stands_for(a, b)
                  or stands_for(b, a))
    return out


def _refers_back(agent: str | None) -> bool:
    """A definite or possessive description ("the firm", "The embattled Russian oil giant", "her
    director"): it stands for someone its article has named, not for a party of its own."""
    found = phrase_words(agent)
    return bool(found) and found[0].lower() in _DEFINITE | _OWN


def _known_cells(table: pl.DataFrame, texts: list[str], first: np.ndarray, inverse: np.ndarray) -> KnownCells:
    """A stored target table over this run's distinct targets: a target is seen when one of its phrases
    was (every stored target has at least its cell with itself); cells of phrases gone are dropped."""
    groups = pl.DataFrame({"text": pl.Series(texts, dtype=pl.String), "g": inverse}).unique("text", keep="first")
    cells = (table.join(groups.rename({"text": "target_a", "g": "a"}), on="target_a", how="inner")
             .join(groups.rename({"text": "target_b", "g": "b"}), on="target_b", how="inner"))
    a, b = cells["a"].to_numpy().astype(np.int64), cells["b"].to_numpy().astype(np.int64)
    seen = np.zeros(len(first), bool)
    seen[a] = True
    seen[b] = True
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    codes, where = np.unique(lo * len(first) + hi, return_index=True)
    sim = cells["similarity"].to_numpy()[where]
    return KnownCells(first, codes // len(first), codes % len(first), sim.astype(np.float32), seen)


def _pair_passes(x: int, y: int, i: int, j: int, agents, act_vec, claim_vectors, preds, thresholds) -> bool:
    """The embedding tests of one pair of frames (x, y) of claims (i, j): what the array version must match."""
    agent_threshold, subject_threshold, predicate_threshold, other_verb_claim_threshold = thresholds
    if float(agents[x] @ agents[y]) >= agent_threshold:
        return False
    va = np.asarray(claim_vectors[i], dtype=np.float32)
    vb = np.asarray(claim_vectors[j], dtype=np.float32)
    claim_sim = float(va @ vb)
    if claim_sim < subject_threshold:
        return False
    # Different verbs: their phrases must be close AND the claims must share a subject, since
    # phrase embeddings lean on the shared target more than on the verb.
    return not (preds[x] != preds[y] and (float(act_vec[x] @ act_vec[y]) < predicate_threshold
                                          or claim_sim < other_verb_claim_threshold))


def _dots(a: np.ndarray, b: np.ndarray, norm: float) -> tuple[np.ndarray, float]:
    """Row-wise dot products in float32 and how far each may be from the one-pair ``a[k] @ b[k]``: both
    sums are within d·2⁻²⁴·|a||b| of the exact value, whatever their order (``norm``: the largest |a|)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    dots = np.einsum("ij,ij->i", a, b).astype(np.float64)
    return dots, 2 * (a.shape[1] + 2) * 2.0 ** -24 * norm * norm + 1e-12


def _max_norm(vectors: np.ndarray, rows: np.ndarray | None = None, block: int = 16_384) -> float:
    """The largest L2 norm among ``vectors`` (or its ``rows``), in float32 a block of rows at a time: the
    claim vectors may be an index's float16 rows, and a float32 copy of them all is what this avoids."""
    count = len(vectors) if rows is None else len(rows)
    best = 0.0
    for s in range(0, count, block):
        v = np.asarray(vectors[s:s + block] if rows is None else vectors[rows[s:s + block]], np.float32)
        best = max(best, float(np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64).max())))
    return best


def _embedding_tests(x, y, i, j, agents, act_vec, claim_vectors, preds, thresholds,
                     norms: tuple[float, float, float] | None = None) -> np.ndarray:
    """:func:`_pair_passes` on arrays of pairs: decided on row-wise dot products where every one is
    farther from its threshold than its rounding slack, and pair by pair where one is not."""
    agent_threshold, subject_threshold, predicate_threshold, other_verb_claim_threshold = thresholds
    if norms is None:  # the largest norms among the vectors compared
        norms = (max(_max_norm(agents[x]), _max_norm(agents[y])),
                 max(_max_norm(np.asarray(claim_vectors)[i]), _max_norm(np.asarray(claim_vectors)[j])),
                 max(_max_norm(act_vec[x]), _max_norm(act_vec[y])))
    agent_sim, agent_slack = _dots(agents[x], agents[y], norms[0])
    claim_sim, claim_slack = _dots(np.asarray(claim_vectors)[i], np.asarray(claim_vectors)[j], norms[1])
    act_sim, act_slack = _dots(act_vec[x], act_vec[y], norms[2])
    same_verb = np.fromiter((preds[a] == preds[b] for a, b in zip(x.tolist(), y.tolist(), strict=True)), bool,
                            count=len(x))
    ok = ((agent_sim < agent_threshold) & (claim_sim >= subject_threshold)
          & (same_verb | ((act_sim >= predicate_threshold) & (claim_sim >= other_verb_claim_threshold))))
    close = ((np.abs(agent_sim - agent_threshold) <= agent_slack)
             | (np.abs(claim_sim - subject_threshold) <= claim_slack)
             | (~same_verb & ((np.abs(act_sim - predicate_threshold) <= act_slack)
                              | (np.abs(claim_sim - other_verb_claim_threshold) <= claim_slack))))
    for k in np.flatnonzero(close).tolist():
        ok[k] = _pair_passes(int(x[k]), int(y[k]), int(i[k]), int(j[k]), agents, act_vec, claim_vectors, preds,
                             thresholds)
    return ok




