"""The governance areas, one package each, listed in :mod:`firekeeper.areas.registry`.

An area package holds its pure features (``features.py``: no I/O, under the
core's contract), its tables and queries (``queries.py``), its ``Area[S]``
(``area.py``) and its admin checks and writes where it has them (``admin.py``).
This module imports nothing, so importing an area's pure module never pulls in
the store or another area.
"""
