"""The screening area's pure modules: no I/O (the core's import contract covers every
``firekeeper.areas.*.pure``)."""
