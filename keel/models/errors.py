"""Errors of model packaging; they live in the one tree of ``keel.errors`` and are re-exported
here for ``from keel.models.errors import …``.

Malformed input to ``predict``, a bad model URI or an unknown flavor are plain
:class:`~keel.errors.InvalidArgument` errors; a framework that is not installed is a
:class:`~keel.errors.MissingDependency` naming the extra.
"""

from keel.errors import ModelIntegrityError, UntrustedModel

__all__ = ["ModelIntegrityError", "UntrustedModel"]
