"""pytest plugin with keel fixtures (registered by tests/conftest.py; usable by plugins too)."""
