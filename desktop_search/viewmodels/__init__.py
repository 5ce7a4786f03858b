"""Qt-free state the window shows, emitting change events that widgets subscribe to.

``SearchState`` (search.py) and ``PreviewState`` (preview.py) are plain Python objects in the
manner of napari's evented models (events.py): ``state.events.results.connect(callback)``.
Controllers change them; widgets show them. Nothing here imports Qt or the GUI, so the state and
its rules are tested without a display.
"""
