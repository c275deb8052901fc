from __future__ import annotations

from pathlib import Path

from keel.config import Settings, load_settings


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings for a fresh embedded store under ``home``, independent of the environment."""
    base: dict[str, object] = {
        "home": str(home),
        # Packages are captured in the dedicated tests; elsewhere they only cost time.
        "capture_packages": False,
        "metric_flush_interval": 0.05,
    }
    base.update(overrides)
    return load_settings(environ={}, **base)
