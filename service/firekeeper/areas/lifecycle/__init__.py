"""Topics and lifecycle: a group's theme, its notices, its activity and health.

Pure, under ``pure/`` (the core's no-I/O contract): ``features`` (the lifecycle stage: the
chat's activity, the repeat and flood checks, the ticks' measures into the
fact), ``topic`` and ``theme_vocab`` (a message against the chat's theme),
``announcements`` (what a notice must say), ``health`` (maturity and status).
With I/O: ``queries`` (its tables, ``LifecycleBatch`` and its statements),
``health_queries`` (the health measures), ``outbox`` (notices waiting for the
adapter), ``onboarding`` (a chat's history imported), ``area``
(``LifecycleArea``), ``admin`` (``LifecycleService``, behind the Outbox and
Health APIs). Declared in ``package``, registered in ``firekeeper.area_registry``.
"""
