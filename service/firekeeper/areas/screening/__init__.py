"""Invite screening and monetization timing: who may join, and who may sell when.

``pure.features`` (the trust context and the screening and promo sections of the
fact), ``tables`` (its tables), ``queries`` (the batch's screening state and its
statements), ``retention`` (what of its tables the sweep prunes), ``review``
(the review queue and settings reads), ``area`` (``ScreeningArea``), ``admin``
(the checks and writes behind the Screening API). Declared in ``package``
and registered in ``firekeeper.area_registry``; the values it shares with the API are in
``firekeeper.domain.screening``; the text features it shares with the other areas
(``promo``, ``value``, ``house_rules``, ``spam_model``) stay in the core.
"""
