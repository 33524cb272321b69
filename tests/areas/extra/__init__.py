"""A governance area made for the registry's test: a package shaped as every area's
(``pure/`` is not needed: it reads no user text beyond one check), that counts a chat's
messages. It lives in the tests, so the service never registers it."""
