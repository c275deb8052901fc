"""``MODEL.yaml``: what a saved model directory is, and the digests that prove it is intact.

A saved model is a directory::

    MODEL.yaml            this manifest (human-readable YAML)
    model.skops           the flavor's files (names vary by flavor)
    input_example.json    optional: the example the signature was inferred from

``files`` maps every file except ``MODEL.yaml`` to its sha256. ``model_digest`` is the sha256 of
that table written like ``sha256sum`` output, one line ``<sha256>  <path>\\n`` per file, sorted by
path (paths are '/'-separated and relative) — so it changes when any file does, and never
depends on the order the files were written in or on the YAML formatting. Loading checks every
file against the table first: a changed, missing or unexpected file is a
:class:`~keel.models.errors.ModelIntegrityError` naming it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.artifacts.digest import sha256_file
from keel.errors import InvalidArgument
from keel.models.errors import ModelIntegrityError
from keel.models.signature import Signature

__all__ = [
    "FORMAT_VERSION",
    "MODEL_FILE",
    "ModelSpec",
    "check_json_able",
    "compute_model_digest",
    "read_spec",
    "scan_files",
    "verify_files",
    "write_spec",
]

FORMAT_VERSION = 1
MODEL_FILE = "MODEL.yaml"


@dataclass(frozen=True)
class ModelSpec:
    """The content of ``MODEL.yaml``.

    ``serialization`` is what the caller asked for (``safe``, ``pickle`` or ``cloudpickle``),
    ``format`` the file format the flavor wrote (``skops``, ``xgboost-ubj``, ``torchscript``,
    …), ``pickle`` whether loading unpickles anything (then ``trust=True`` is required).
    """

    flavor: str
    format: str
    serialization: str
    pickle: bool
    framework: str
    framework_version: str
    python_version: str
    keel_version: str
    created_at: str
    files: Mapping[str, str]
    model_digest: str
    signature: Signature | None = None
    input_example: str | None = None
    requirements: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    flavor_config: Mapping[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The manifest in the order ``MODEL.yaml`` shows it."""
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "format": self.format,
            "serialization": self.serialization,
            "pickle": self.pickle,
            "framework": self.framework,
            "framework_version": self.framework_version,
            "python_version": self.python_version,
            "keel_version": self.keel_version,
            "created_at": self.created_at,
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "requirements": list(self.requirements),
            "metadata": dict(self.metadata),
            "flavor_config": dict(self.flavor_config),
            "files": dict(sorted(self.files.items())),
            "model_digest": self.model_digest,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        try:
            version = int(data.get("format_version", 0))
            if version != FORMAT_VERSION:
                raise InvalidArgument(
                    f"MODEL.yaml format_version {version} is not supported by this keel "
                    f"(it reads version {FORMAT_VERSION})",
                    details={"format_version": version},
                )
            signature = data.get("signature")
            return cls(
                flavor=str(data["flavor"]),
                format=str(data["format"]),
                serialization=str(data["serialization"]),
                pickle=bool(data["pickle"]),
                framework=str(data["framework"]),
                framework_version=str(data["framework_version"]),
                python_version=str(data["python_version"]),
                keel_version=str(data["keel_version"]),
                created_at=str(data["created_at"]),
                files={str(k): str(v) for k, v in (data.get("files") or {}).items()},
                model_digest=str(data["model_digest"]),
                signature=Signature.from_dict(signature) if signature else None,
                input_example=data.get("input_example"),
                requirements=tuple(str(r) for r in data.get("requirements") or ()),
                metadata=dict(data.get("metadata") or {}),
                flavor_config=dict(data.get("flavor_config") or {}),
                format_version=version,
            )
        except KeyError as exc:
            raise InvalidArgument(
                f"MODEL.yaml has no {exc.args[0]!r} entry", details={"key": exc.args[0]}
            ) from None


def write_spec(directory: Path, spec: ModelSpec) -> None:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Shapes (lists of integers) on one line: ``shape: [-1, 4]``."""

    def represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
        flow = bool(data) and all(type(item) is int for item in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    Dumper.add_representer(list, represent_list)
    text = yaml.dump(
        spec.to_dict(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    (directory / MODEL_FILE).write_text(text, encoding="utf-8")


def read_spec(directory: Path) -> ModelSpec:
    """The manifest of the model in ``directory`` (its files are not checked here)."""
    import yaml

    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise InvalidArgument(
            f"{directory} is not a saved model: it has no {MODEL_FILE}",
            details={"path": str(directory)},
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelIntegrityError(
            f"{MODEL_FILE} in {directory} is not valid YAML: {exc}",
            details={"path": MODEL_FILE, "problem": "unreadable"},
        ) from None
    if not isinstance(data, Mapping):
        raise ModelIntegrityError(
            f"{MODEL_FILE} in {directory} is not a mapping",
            details={"path": MODEL_FILE, "problem": "unreadable"},
        )
    return ModelSpec.from_dict(data)


def scan_files(directory: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``directory`` except ``MODEL.yaml``.
    Symbolic links are refused: a model directory holds files, nothing that points elsewhere."""
    root = Path(directory)
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            if path.is_symlink():
                rel = path.relative_to(root).as_posix()
                raise ModelIntegrityError(
                    f"model file {rel!r} is a symbolic link; a saved model holds only files",
                    details={"path": rel, "problem": "symlink"},
                )
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel == MODEL_FILE:
                continue
            if any(ch in rel for ch in "\n\r\\"):
                raise InvalidArgument(
                    f"model file name {rel!r} has a newline or a backslash",
                    details={"path": rel},
                )
            out[rel] = sha256_file(path)[1]
    return dict(sorted(out.items()))


def compute_model_digest(files: Mapping[str, str]) -> str:
    """sha256 of ``"<sha256>  <path>\\n"`` lines sorted by path (see the module docstring)."""
    table = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return hashlib.sha256(table.encode("utf-8")).hexdigest()


def verify_files(directory: Path, spec: ModelSpec) -> None:
    """Raise :class:`ModelIntegrityError` unless the files under ``directory`` are exactly the
    ones ``spec.files`` lists, with those digests."""
    expected = dict(spec.files)
    if compute_model_digest(expected) != spec.model_digest:
        raise ModelIntegrityError(
            f"{MODEL_FILE}: model_digest does not match its own file table; the manifest was "
            "edited",
            details={"path": MODEL_FILE, "problem": "changed"},
        )
    actual = scan_files(directory)
    problems: list[tuple[str, str]] = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            problems.append((path, "missing"))
        elif path not in expected:
            problems.append((path, "unexpected"))
        elif actual[path] != expected[path]:
            problems.append((path, "changed"))
    if problems:
        words = {
            "missing": "is missing",
            "unexpected": "is not part of the model",
            "changed": "does not match its sha256 in MODEL.yaml",
        }
        listed = "; ".join(f"{p!r} {words[why]}" for p, why in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ModelIntegrityError(
            f"model in {directory} failed its integrity check: {listed}{more}",
            details={
                "path": problems[0][0],
                "problem": problems[0][1],
                "problems": [{"path": p, "problem": why} for p, why in problems],
            },
        )


def check_json_able(value: Any, what: str) -> None:
    """``value`` must survive JSON (and so YAML) unchanged: dicts with string keys, lists,
    strings, numbers, booleans and None."""
    import json

    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{what} must be JSON-serialisable: {exc}") from None

