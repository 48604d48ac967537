"""The manifest: the one file that says which generation is committed, with a size and hash per file.

Sizes are checked on every open (a ``stat`` per file); hashes when a file is read whole, and all of them
by ``claimmatch index verify``. The manifest carries an xxh3-128 checksum of its own content, so a flipped
byte that still parses as JSON is caught too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import xxhash

from claimmatch.embed import Embedder
from claimmatch.errors import ClaimmatchError
from claimmatch.store.layout import FORMAT, JOURNAL, MANIFEST, VECTOR_ITEMSIZE, damaged

CHECKSUM = "checksum"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def digest(data: bytes | memoryview) -> str:
    """xxh3-128 of ``data`` as hex: ~10 GB/s, so checking costs little next to reading."""
    return xxhash.xxh3_128_hexdigest(data)


def entry(data: bytes | memoryview) -> dict:
    return {"size": len(data), "xxh3": digest(data)}


def _canonical(manifest: dict) -> bytes:
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def seal(manifest: dict) -> dict:
    """The manifest with its checksum set (call last, just before writing)."""
    return {**manifest, CHECKSUM: digest(_canonical(manifest))}


def parse_manifest(path: Path, raw: bytes) -> dict:
    """Check and decode manifest bytes; a damaged or old-format manifest is a one-line error."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError):
        raise damaged(path, MANIFEST, "corrupt manifest (not valid JSON)") from None
    if manifest.get("format") != FORMAT:
        raise ClaimmatchError(f"{path}: index format {manifest.get('format')} is from an older claimmatch and "
                              "has no file checksums; rebuild it: delete the folder, then run 'claimmatch index "
                              "build' again")
    if manifest.get(CHECKSUM) != digest(_canonical(manifest)):
        raise damaged(path, MANIFEST, "manifest checksum mismatch (the file was changed or damaged)")
    return manifest


def read_manifest(path: Path) -> dict:
    mpath = path / MANIFEST
    try:
        raw = mpath.read_bytes()
    except FileNotFoundError:
        raise ClaimmatchError(f"{path}: no index here (no {MANIFEST}); build one with 'claimmatch index build'") \
            from None
    except OSError as exc:
        raise damaged(path, MANIFEST, f"unreadable ({exc.strerror or exc})") from None
    return parse_manifest(path, raw)


def vectors_size(manifest: dict) -> int:
    """Bytes of committed vector rows (the file may hold more: rows of a writer still at work)."""
    return int(manifest["rows"]) * int(manifest["dimension"]) * VECTOR_ITEMSIZE


def generation_files(manifest: dict | None) -> list[str]:
    """Every file a generation reads."""
    if not manifest:
        return []
    return [manifest["vectors"], *manifest["files"]]


def journal_files(path: Path) -> set[str]:
    """Files of an unfinished compaction of the committed generation, kept so a rerun can resume it."""
    try:
        journal = json.loads((path / JOURNAL).read_text(encoding="utf-8"))
        current = read_manifest(path)
        if journal.get("from_checksum") != current.get(CHECKSUM):
            return set()  # the index moved on: the journal and its files are debris
        return {JOURNAL, journal["manifest"]["vectors"], *journal["manifest"]["files"]}
    except (OSError, ValueError, KeyError, TypeError, ClaimmatchError):
        return set()


def check_sizes(path: Path, manifest: dict) -> None:
    """One ``stat`` per file: catches a missing or cut-short file before anything is read."""
    for name, meta in manifest["files"].items():
        try:
            size = (path / name).stat().st_size
        except FileNotFoundError:
            raise damaged(path, name, "file missing") from None
        if size != meta["size"]:
            raise damaged(path, name, f"size {size} bytes, the manifest records {meta['size']}")
    want = vectors_size(manifest)
    if not want:
        return
    try:
        size = (path / manifest["vectors"]).stat().st_size
    except FileNotFoundError:
        raise damaged(path, manifest["vectors"], "file missing") from None
    if size < want:
        raise damaged(path, manifest["vectors"], f"size {size} bytes, the manifest records {want} (cut short)")


def check_compatible(manifest: dict, path: Path, embedder: Embedder | None = None,
                     extractor: dict | None = None, *, strict_extractor: bool = False) -> None:
    """Refuse vectors of another model, and claims of another extractor (``strict``: None counts too)."""
    if embedder is not None and (manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dim):
        raise ClaimmatchError(
            f"{path}: index was built with model {manifest.get('model')} ({manifest.get('dimension')} dims), "
            f"not {embedder.name} ({embedder.dim} dims); rebuild it or use another --index name")
    if (extractor is not None or strict_extractor) and manifest.get("extractor") != extractor:
        raise ClaimmatchError(
            f"{path}: index claims were extracted by {describe_extractor(manifest.get('extractor'))}, not "
            f"{describe_extractor(extractor)}; rebuild it or use another --index name")


def describe_extractor(info: dict | None) -> str:
    if not info:
        return "an unrecorded extractor"
    sha = str(info.get("weights_sha256") or "")[:12]
    return f"{info.get('name')} {info.get('version')}" + (f" (weights {sha})" if sha else "")
