pytest_plugins = ["tests.conftest_models", "tests.https_server", "tests.fake_hub"]
