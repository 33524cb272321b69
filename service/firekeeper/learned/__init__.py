"""The learned spam signal around the pure scorer (``firekeeper.rules.spam_model``).

- ``samples``: labelled messages: the shared datasets, and JSON Lines files of
  ``{"text", "label", "lang", "source"}`` (what the corrections export writes);
  the fixed held-out split.
- ``artefact``: reading and writing the model file; the one shipped as package data.
- ``train``: ``firekeeper train`` (scikit-learn, the ``train`` extra).
- ``evaluate``: precision, recall and false-positive rate of the learned and the
  combined judgment on rows the model was not trained on.
"""
