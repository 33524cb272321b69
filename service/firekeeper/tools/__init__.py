"""Tools for policy authors, behind ``firekeeper test | explain | replay | export | schema``.

    suite.py       the ruleset test file format (docs/ruleset-tests.md), parsed with locations
    events.py      events in compact form (one function per kind) -> domain events
    sandbox.py     the real pipeline (firekeeper.wiring) on a throwaway SQLite store
    runner.py      runs test files: expectations, results, rule coverage
    report.py      the readable report and JUnit XML
    inputs.py      chat state files and event files for explain and replay
    explaining.py  `firekeeper explain`: one event, why each rule matched or not
    replay.py      `firekeeper replay`: recorded events through two versions, the diff
    schema.py      JSON Schemas for editors, from the parser's models
    commands.py    the subcommands

The evaluation core knows nothing of these; they use it as the service does.
"""
