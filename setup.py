"""Adds the model manifests (top-level models/) to the packages that packages.find discovers."""

from setuptools import setup
from setuptools.dist import Distribution


class _Distribution(Distribution):
    def parse_config_files(self, *args, **kwargs):
        super().parse_config_files(*args, **kwargs)
        self.packages = [*(self.packages or []), "desktop_search.manifests"]


setup(distclass=_Distribution)
