"""sql backend."""
