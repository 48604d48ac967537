"""Settings: defaults < claimmatch.toml < CLAIMMATCH_* environment variables < command-line flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from claimmatch.errors import ClaimmatchError
from claimmatch.nli_rules import RULES

CONFIG_FILE = "claimmatch.toml"
ENV_PREFIX = "CLAIMMATCH_"
# Inference paths for the NLI cross-encoder (claimmatch/nli.py), measured in docs/BENCHMARKS.md.
NLI_PRECISIONS = ("fp32", "bf16", "int8", "onnx", "onnx-int8")
NLI_ENGINES = ("local", "ray")


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "claimmatch")


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run. Thresholds are cosine similarities of normalized MiniLM vectors."""

    # Same-claim (near-duplicate) threshold: calibrated on MRPC, see docs/EVALUATION.md.
    threshold: float = 0.75
    # "Same subject" threshold for contradiction candidates (well below the duplicate threshold).
    candidate_threshold: float = 0.45
    # Neighbours retrieved per claim from FAISS.
    neighbors: int = 10
    # Embed the atomic proposition without its attribution frame ("text"), or the whole "sentence".
    embed_field: str = "text"
    batch_size: int = 64
    # IVF lists searched per query on a stored index (0: the index's own, tuned for clustering);
    # raise it for search recall (docs/BENCHMARKS.md, "Index type by size").
    nprobe: int = 0
    index_dir: str = "indexes"
    cache_dir: str = ""
    # Contradictions: NLI verification and flagging.
    use_nli: bool = True
    # Folder of another NLI model saved by scripts/train_nli.py; empty means the shipped model.
    nli_model: str = ""
    # NLI inference path (one of NLI_PRECISIONS); see docs/BENCHMARKS.md, "NLI inference variants".
    nli_precision: str = "bf16"
    # Where NLI pairs are scored: in this process ("local") or on Ray workers ("ray", address from RAY_ADDRESS).
    nli_engine: str = "local"
    # Pairs per scoring block: the unit of progress, cache writes and Ray tasks.
    nli_block_size: int = 2048
    # Lowest p(contradiction) flagged (and the clustering judge's veto): the lowest grid value (0.80 … 0.95) with
    # pooled NLI dev precision >= 0.95 that links no ARC-train agree pair (docs/EVALUATION.md, NLI v7: 0.95).
    contradiction_threshold: float = 0.95
    # The NLI path flags a pair only when the two claims' frames also clash (one negates the other, antonym
    # verbs, numbers or dates that do not fit, doer and target swapped: claimmatch/judge.py ``frame_relation``). On real news v7 calls
    # parallel statements about two things contradictions ("Liam Neeson won best actor for Kinsey" / "Jamie
    # Foxx won best actor for Ray"); every such flag read was wrong. docs/EVALUATION.md, "A reason in the frames".
    nli_flag_needs_clash: bool = True
    # How the two NLI directions make one p(contradiction): min, mean, max or forward
    # (claimmatch/nli_rules.py); min was the most precise on SICK (docs/NLI_MODEL.md).
    contradiction_rule: str = "min"
    # Contradiction candidates beyond the cosine neighbours: claims naming the same subject (named entity,
    # agent or patient) that at most this many claims name; below 2, off. See docs/EVALUATION.md.
    subject_key_max_claims: int = 20
    entailment_threshold: float = 0.50
    # Whether the clustering judge joins borderline pairs (candidate_threshold <= cosine < threshold) on NLI
    # entailment (entailment_threshold both ways, or agreeing frames and frame_entailment_threshold). Off:
    # on labelled AG News pairs nine in ten of those joins were wrong, and the model's entailment ranked the
    # borderline pairs no better than chance (docs/EVALUATION.md, "Real news"). NLI still vetoes.
    band_join: bool = False
    # Same-claim judge, borderline band: frames agree (shared predicate or mention, same polarity) and the mean
    # entailment of both directions reaches this. Calibrated by benchmarks/same_claim.py (docs/EVALUATION.md).
    frame_entailment_threshold: float = 0.65
    within_outlet: bool = False
    # Who-did-it conflicts (claimmatch/contradict/who_did_it.py): the same act (same predicate lemma, or
    # verb phrases "predicate patient" at least predicate_threshold similar) on the same target (patients at least
    # target_threshold similar) by different agents (agents less than agent_threshold similar), in claims at
    # least who_subject_threshold similar. See docs/EVALUATION.md, "Who did it, from frames".
    predicate_threshold: float = 0.70
    # Two different verbs name one act only if the verbs alone are at least this alike and not antonyms: the
    # lowest of the same-act verb pairs measured (shell / bomb 0.35; docs/EVALUATION.md, "Who did it").
    verb_threshold: float = 0.35
    # The seeds' same targets under other names lie at 0.66-1.00 ("fighting" / "renewed fighting",
    # "ceasefire" / "ceasefire regime"); on BBC News targets at 0.51-0.64 were two things ("best actress" /
    # "best actor for Kinsey", "Mr Blair" / "Mr Brown"; docs/EVALUATION.md, "Who did it on BBC News").
    target_threshold: float = 0.65
    agent_threshold: float = 0.3
    who_subject_threshold: float = 0.0
    # A contradiction (NLI or who-did-it) pairs claims of documents reporting one story: the cosine of the two
    # documents' mean claim vectors at least this (claimmatch/story.py; docs/EVALUATION.md,
    # "One story"). Two claims that name nothing are one claim only within one story too (docs/EVALUATION.md,
    # "Claims that name nothing"). Below 0 (e.g. -1), off.
    story_threshold: float = 0.75
    quiet: bool = False
    strict: bool = False
    skip_bad_rows: bool = False

    def resolved_cache_dir(self) -> Path:
        return Path(self.cache_dir or default_cache_dir())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(name: str, raw: Any, typ: Any, origin: str) -> Any:
    typ = typ if isinstance(typ, type) else {"float": float, "int": int, "bool": bool, "str": str}[str(typ)]
    try:
        if typ is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if typ is float and isinstance(raw, bool):
            raise ValueError(raw)
        return typ(raw)
    except (TypeError, ValueError):
        raise ClaimmatchError(f"{origin}: setting '{name}' must be {typ.__name__}, got {raw!r}") from None


def load_settings(config_path: Path | None = None, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Merge the four layers. Unknown keys in the file are an error (a typo should not pass silently)."""
    environ = dict(os.environ) if environ is None else environ
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = config_path or (Path(CONFIG_FILE) if Path(CONFIG_FILE).exists() else None)
    if config_path is not None and not config_path.exists():
        raise ClaimmatchError(f"{config_path}: config file not found")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ClaimmatchError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from None
        data = data.get("claimmatch", data)
        for key, raw in data.items():
            name = key.replace("-", "_")
            if name not in known:
                raise ClaimmatchError(f"{path}: unknown setting '{key}' (known: {', '.join(sorted(known))})")
            values[name] = _coerce(name, raw, known[name], str(path))
    for name, typ in known.items():
        env_key = ENV_PREFIX + name.upper()
        if env_key in environ:
            values[name] = _coerce(name, environ[env_key], typ, env_key)
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = _coerce(name, raw, known[name], f"--{name.replace('_', '-')}")
    settings = replace(Settings(), **values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    for name in ("threshold", "candidate_threshold", "contradiction_threshold", "entailment_threshold",
                 "frame_entailment_threshold", "predicate_threshold", "verb_threshold", "target_threshold",
                 "agent_threshold", "who_subject_threshold", "story_threshold"):
        value = getattr(s, name)
        if not -1.0 <= value <= 1.0:
            raise ClaimmatchError(f"setting '{name}' must lie between -1 and 1, got {value}")
    if s.candidate_threshold > s.threshold:
        raise ClaimmatchError(
            f"candidate_threshold ({s.candidate_threshold}) must not exceed threshold ({s.threshold})")
    if s.neighbors < 1 or s.batch_size < 1:
        raise ClaimmatchError("settings 'neighbors' and 'batch_size' must be at least 1")
    if s.subject_key_max_claims < 0:
        raise ClaimmatchError(f"setting 'subject_key_max_claims' must be 0 (off) or more, got {s.subject_key_max_claims}")
    if s.nprobe < 0:
        raise ClaimmatchError(f"setting 'nprobe' must be 0 (the index's own) or more, got {s.nprobe}")
    if s.contradiction_rule not in RULES:
        raise ClaimmatchError(f"setting 'contradiction_rule' must be one of {', '.join(RULES)}, "
                              f"got {s.contradiction_rule!r}")
    if s.nli_precision not in NLI_PRECISIONS:
        raise ClaimmatchError(
            f"setting 'nli_precision' must be one of {', '.join(NLI_PRECISIONS)}, got {s.nli_precision!r}")
    if s.nli_engine not in NLI_ENGINES:
        raise ClaimmatchError(f"setting 'nli_engine' must be one of {', '.join(NLI_ENGINES)}, got {s.nli_engine!r}")
    if s.nli_block_size < 1:
        raise ClaimmatchError(f"setting 'nli_block_size' must be at least 1, got {s.nli_block_size}")
    if s.embed_field not in {"text", "sentence"}:
        raise ClaimmatchError(f"setting 'embed_field' must be 'text' or 'sentence', got {s.embed_field!r}")
