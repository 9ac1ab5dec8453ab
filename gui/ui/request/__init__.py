"""The request side of the window: the JSON editor with its colours and diagnostics, the options
form, drafts, templates, batches, and the work done off the Qt thread for them.

- ``batch_dialog``: The batch dialog: several dropped files, or a ``.jsonl`` file, checked and
  submitted together.
- ``chips``: The folded strings' chips in the editor: kept whole by the keys, and their menu (save
  as file, copy, inline).
- ``diagnostics``: The list of the request's diagnostics (``diagnosticsList``): severity icon,
  line:col, message.
- ``drafts``: The editor's text kept between runs (``<data_dir>/draft.json``), so closing loses
  nothing.
- ``editor``: The JSON request editor (``requestEditor``): line numbers, colours, diagnostics, file
  drops.
- ``folding``: Long strings (a base64 image) shown folded as a chip, kept whole for validation,
  Send, Save, the draft, Copy and undo (plain Python).
- ``highlighter``: Syntax colours for JSON in the request editor.
- ``options_form``: The options form beside the JSON text: webhook, policy and s3Config, in step
  with the text.
- ``options_tab``: The request's Options tab: a page that builds its ``RequestForm`` when first
  shown.
- ``panel``: The request side of the window: target bar, JSON editor and options form, diagnostics,
  size.
- ``secret_move``: Moving a pasted S3 ``accessSecret`` out of a request and into the keyring.
- ``template_dialog``: Save as template: the new template's name and description (what the list
  shows and searches).
- ``templates_panel``: The template list (``templateList``): search, open, rename, duplicate, delete
  with undo, import, export. The files live in ``TemplateStore``; this panel only shows them and
  asks for changes.
- ``text_mirror``: The editor's text as a Python copy kept edit by edit (a rope of chunks), so
  validation never copies a big document out of Qt on the Qt thread.
- ``text_splice``: Edits of one top-level key of a request text that leave the rest of the text as
  it was typed.
- ``validation_worker``: Work the Qt thread must not do itself: validating, reading files, parsing
  big documents.
"""
