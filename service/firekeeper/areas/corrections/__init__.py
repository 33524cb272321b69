"""Admins' corrections: reported samples into the fact, the per-rule action tally.

``pure.features`` (the near-duplicate test), ``queries`` (the corrections tables
and their queries), ``area`` (``CorrectionsArea``, the sample cache), ``admin``
(the checks and writes behind ``Corrections.ReportCorrection``). Declared in ``package``
and registered in ``firekeeper.area_registry``; the values it shares with the API are in
``firekeeper.domain.corrections``.
"""
