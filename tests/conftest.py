pytest_plugins = ["tests.conftest_models"]
