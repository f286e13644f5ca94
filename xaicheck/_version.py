"""The one source of xaicheck's version: ``xaicheck.__version__`` re-exports it and ``pyproject.toml`` reads it
(``[tool.setuptools.dynamic] version = {attr = "xaicheck._version.__version__"}``). No imports: reading it is free."""

__version__ = "0.2.0"
