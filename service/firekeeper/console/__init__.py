"""The read-only web console: per-rule counts over time, a chat's health and latest
decisions, and a replay diff, served beside gRPC (``firekeeper serve --console-port``).

- ``stats``: per-rule counts from the decision log (pure), and the ``FalsePositives``
  provider protocol the corrections store plugs into;
- ``data``: the reads, through the store, lifecycle and replay functions the API and
  the tools use;
- ``session``: who may look (bearer token or signed session cookie, admin roles);
- ``charts``: pygal SVG; ``app``: the aiohttp pages; ``server``: serving and exposure.
"""
