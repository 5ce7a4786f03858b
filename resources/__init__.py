"""The app's icons, desktop entry and AppStream metainfo, installed as ``desktop_search.resources``.

Read them with :mod:`desktop_search.platform.resource_files`; README.md here says what each is.
"""
