# The fixture comes from the package's plugin (installed packages load it by entry point).
pytest_plugins = ["ropecheck.pytest_plugin"]
