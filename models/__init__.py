"""Model manifests (TOML, one per model), installed as ``desktop_search.manifests``.

Read them with :mod:`desktop_search.models.install.manifest`; the schema is in README.md here.
"""
