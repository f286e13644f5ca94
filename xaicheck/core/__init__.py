"""The bottom layer: what every other layer shares and nothing in it imports from them.

- ``errors``: the exception classes raised in one layer and caught in another;
- ``discovery``: a package's public modules and an entry-point group's plug-ins;
- ``registry``: :class:`~xaicheck.core.registry.Registry`, the one name -> item mechanism behind the models,
  explainers and checks registries (built-ins by discovery, third parties by entry points, loud on import failure);
- ``cache_files``: the atomic cache-file writer and the source fingerprint of every on-disk cache;
- ``tiers``: the suites, smallest first.

Layers, lowest first (``tests/test_layers.py`` holds them): ``core`` < ``synthetic_models`` < ``explainers`` <
``axioms`` < ``benchmarks``. This package imports nothing at import time; import its modules directly.
"""
