"""The request side of the window: the JSON editor with its colours and diagnostics, the options
form, drafts, templates, batches, and the work done off the Qt thread for them.

- ``batch_dialog``: The batch dialog: several dropped files, or a ``.jsonl`` file, checked and
  submitted together.
- ``data_run``: *Run with data…*: the editor's template sent once per row of a data file (.csv,
  .jsonl, .json).
- ``drafts``: The editor's text kept between runs (``<data_dir>/draft.json``), so closing loses
  nothing.
- ``expansion``: The editor's request with its placeholders filled, for Submit (off the Qt
  thread).
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
- ``text``: The JSON editor and what works on its text: colours, folding, diagnostics, validation.
"""
