"""The evaluation core: ruleset language, compiler, features, engine, decisions.

Nothing in this package does I/O: no files, network, database, metrics,
environment or wall clock. ``now`` is always passed in. An import contract in
pyproject.toml (checked by ``lint-imports`` in CI) holds this, and only
``firekeeper.rules.engine`` imports durable-rules.
"""
