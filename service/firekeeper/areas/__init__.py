"""The governance areas, one package each (and nothing else), listed in
:mod:`firekeeper.area_registry`.

An area package holds its pure modules (``pure/``: no I/O, under the core's
contract by a wildcard, ``firekeeper.areas.*.pure``), its tables and queries
(``queries.py``), its ``Area[S]`` (``area.py``), its admin checks and writes where it
has them (``admin.py``), and its declaration (``package.py``: ``PACKAGE``, a
``firekeeper.area_package.AreaPackage``). This module imports nothing, so importing
an area's pure module never pulls in the store or another area.
"""
