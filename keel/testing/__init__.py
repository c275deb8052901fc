"""Contract suites for keel ports and a pytest plugin with keel fixtures."""
