"""The desktop app: the only package that imports PySide6 (views over the same Library)."""
