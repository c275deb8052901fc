import pytest

# Contract suites live in keel.testing; rewrite their asserts so failures show values.
pytest.register_assert_rewrite("keel.testing")

pytest_plugins = ["keel.testing.plugin"]
