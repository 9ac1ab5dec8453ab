"""The request's JSON text: the editor with its colours, folded strings and diagnostics, the Python
copy of its text, and its validation off the Qt thread.

- ``chips``: The folded strings' chips in the editor: kept whole by the keys, and their menu (save
  as file, copy, inline).
- ``diagnostics``: The list of the request's diagnostics (``diagnosticsList``): severity icon,
  line:col, message.
- ``editor``: The JSON request editor (``requestEditor``): line numbers, colours, diagnostics, file
  drops.
- ``folding``: Long strings (a base64 image) shown folded as a chip, kept whole for validation,
  Send, Save, the draft, Copy and undo (plain Python).
- ``highlighter``: Syntax colours for JSON in the request editor.
- ``mirror``: The editor's text as a Python copy kept edit by edit (a rope of chunks), so
  validation never copies a big document out of Qt on the Qt thread.
- ``splice``: Edits of one top-level key of a request text that leave the rest of the text as
  it was typed.
- ``validation_worker``: Work the Qt thread must not do itself: validating, reading files, parsing
  big documents.
"""
