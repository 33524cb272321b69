"""Runnable reference adapters on the platforms' own libraries (optional extras).

Each module wires the pure translators and action mappers of
``firekeeper.adapters`` into a real bot, and is the only module that imports
its library:

    firekeeper.integrations.telegram_bot    "firekeeper[telegram]"  python-telegram-bot
    firekeeper.integrations.discord_bot     "firekeeper[discord]"   discord.py
    firekeeper.integrations.wecom_callback  "firekeeper[wecom]"     cryptography, defusedxml

Each runs with ``python -m firekeeper.integrations.<module>``, configured by
environment variables (``docs/adapters.md`` lists them); nothing else in
``firekeeper`` imports these modules (an import contract checks it).
"""
