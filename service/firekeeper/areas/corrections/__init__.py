"""Admins' corrections: reported samples into the fact, the per-rule action tally.

``features`` (pure: the near-duplicate test), ``queries`` (the corrections tables
and their queries), ``area`` (``CorrectionsArea``, the sample cache), ``admin``
(the checks and writes behind ``Corrections.ReportCorrection``). Registered in
``firekeeper.areas.registry``; the values it shares with the API are in
``firekeeper.domain.corrections``.
"""
