"""Files attached to runs: logged from paths, text, dicts or figures; listed and downloaded.

Every key is checked by ``safe_key`` before it reaches the store, each file's size and sha256
are recorded in the metadata store, and downloads are verified against that digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.artifacts import ArtifactInfo, ArtifactStore
from keel.artifacts.paths import safe_key
from keel.core import now_ms
from keel.errors import ArtifactNotFound, InvalidArgument, InvalidArtifactPath, KeelError
from keel.tracking.models import ArtifactRecord, Run
from keel.tracking.store import RunStore


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class RunArtifactService:
    def __init__(self, runs: RunStore, store: ArtifactStore) -> None:
        self._runs = runs
        self._store = store

    @property
    def store(self) -> ArtifactStore:
        return self._store

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> ArtifactInfo:
        """Copy one local file into the run's artifacts, under ``artifact_path`` if given."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidArgument(f"{source} is not a file", details={"path": str(source)})
        run = self._runs.get_run(run_id)
        rel = _join(safe_key(artifact_path) if artifact_path else "", source.name)
        info = self._store.put_file(source, self._key(run, rel))
        self._record(run_id, rel, info)
        return ArtifactInfo(rel, False, info.size, info.sha256)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[ArtifactInfo]:
        """Copy a directory tree. A symlink that points outside ``local_dir`` is refused, and
        then nothing is copied."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidArgument(f"{root} is not a directory", details={"path": str(root)})
        real_root = root.resolve()
        prefix = safe_key(artifact_path) if artifact_path else ""
        files: list[tuple[Path, str]] = []
        for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                real = path.resolve()
                if not real.is_relative_to(real_root):
                    raise InvalidArtifactPath(
                        f"{path} is a symlink to {real}, outside {root}; refusing to copy it",
                        details={"path": str(path)},
                    )
                rel = path.relative_to(root).as_posix()
                files.append((path, _join(prefix, safe_key(rel))))
        run = self._runs.get_run(run_id)
        out = []
        for path, rel in sorted(files, key=lambda item: item[1]):
            info = self._store.put_file(path, self._key(run, rel))
            out.append(ArtifactInfo(rel, False, info.size, info.sha256))
        self._runs.log_artifact_records(
            [ArtifactRecord(run_id, a.path, a.size or 0, a.sha256 or "", now_ms()) for a in out]
        )
        return out

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> ArtifactInfo:
        run = self._runs.get_run(run_id)
        rel = safe_key(artifact_file)
        info = self._store.put_bytes(data, self._key(run, rel))
        self._record(run_id, rel, info)
        return ArtifactInfo(rel, False, info.size, info.sha256)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> ArtifactInfo:
        if not isinstance(text, str):
            raise InvalidArgument(f"log_text needs a str, got {type(text).__name__}")
        return self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
        """JSON, or YAML when ``artifact_file`` ends in .yaml/.yml."""
        if artifact_file.lower().endswith((".yaml", ".yml")):
            import yaml

            payload = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True).encode()
        else:
            try:
                payload = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True).encode()
            except TypeError as exc:
                raise InvalidArgument(f"log_dict: value is not JSON-serialisable: {exc}") from None
        return self.log_bytes(run_id, payload, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> ArtifactInfo:
        """A matplotlib figure (PNG, SVG, PDF by extension) or a plotly figure (HTML)."""
        buffer = io.BytesIO()
        if hasattr(figure, "savefig"):
            suffix = Path(artifact_file).suffix.lstrip(".").lower() or "png"
            figure.savefig(buffer, format=suffix)
        elif hasattr(figure, "write_html"):
            text = io.StringIO()
            figure.write_html(text, include_plotlyjs=True, full_html=True)  # offline: no CDN
            buffer.write(text.getvalue().encode())
        else:
            raise InvalidArgument(
                f"log_figure takes a matplotlib or plotly figure, got {type(figure).__name__}"
            )
        return self.log_bytes(run_id, buffer.getvalue(), artifact_file)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """Direct children of ``path`` in the run's artifacts, with digests where recorded."""
        run = self._runs.get_run(run_id)
        rel = safe_key(path) if path else ""
        root = self._key(run, "")
        records = {r.path: r for r in self._runs.list_artifact_records(run_id, rel)}
        out = []
        for entry in self._store.list(_join(root, rel)):
            entry_rel = entry.path[len(root) :].lstrip("/") if entry.path.startswith(root) else (
                entry.path
            )
            record = records.get(entry_rel)
            out.append(
                ArtifactInfo(
                    entry_rel,
                    entry.is_dir,
                    entry.size,
                    record.sha256 if record and record.size == entry.size else entry.sha256,
                )
            )
        return out

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> Path:
        """Download a file or a directory of the run's artifacts; returns the local path.
        Each file with a recorded digest is verified, and a mismatch is an error."""
        import tempfile

        run = self._runs.get_run(run_id)
        rel = safe_key(path) if path else ""
        root = self._key(run, "")
        dest_root = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp("-keel"))
        records = {r.path: r for r in self._runs.list_artifact_records(run_id, rel)}
        key = _join(root, rel)
        if rel and self._store.exists(key) and not self._store.info(key).is_dir:
            target = dest_root / Path(rel).name
            self._fetch(key, target, records.get(rel))
            return target
        entries = self._store.list(key, recursive=True)
        if not entries and rel:
            raise ArtifactNotFound(
                f"run {run_id} has no artifact {rel!r}", details={"run_id": run_id, "path": rel}
            )
        base = dest_root / Path(rel).name if rel else dest_root
        for entry in entries:
            entry_rel = entry.path[len(root) :].lstrip("/")
            inner = entry_rel[len(rel) :].lstrip("/") if rel else entry_rel
            self._fetch(entry.path, base / inner, records.get(entry_rel))
        base.mkdir(parents=True, exist_ok=True)
        return base

    def _fetch(self, key: str, target: Path, record: ArtifactRecord | None) -> None:
        self._store.get_file(key, target)
        if record is None:
            return
        digest = hashlib.sha256()
        with target.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != record.sha256:
            target.unlink(missing_ok=True)
            raise KeelError(
                f"artifact {record.path!r} of run {record.run_id} does not match its recorded "
                "sha256; the stored file was changed or corrupted",
                details={"path": record.path, "expected": record.sha256},
            )

    def _key(self, run: Run, rel: str) -> str:
        return _join(run.artifact_location, rel)

    def _record(self, run_id: str, rel: str, info: ArtifactInfo) -> None:
        self._runs.log_artifact_records(
            [ArtifactRecord(run_id, rel, info.size or 0, info.sha256 or "", now_ms())]
        )
