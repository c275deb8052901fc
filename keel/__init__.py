"""keel: the whole ML lifecycle in one package."""

__version__ = "0.1.0"
