"""Adds the model manifests (top-level models/) and the desktop files (top-level resources/) to the
packages that packages.find discovers: both are mapped in pyproject.toml's package-dir."""

from setuptools import setup
from setuptools.dist import Distribution


class _Distribution(Distribution):
    def parse_config_files(self, *args, **kwargs):
        super().parse_config_files(*args, **kwargs)
        self.packages = [
            *(self.packages or []), "desktop_search.manifests", "desktop_search.resources"
        ]


setup(distclass=_Distribution)
