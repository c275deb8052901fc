pytest_plugins = ["keel.testing.plugin"]
