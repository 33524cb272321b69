"""Authentication, authorisation, fair share and the transport's TLS.

    credentials.py   the credentials file (token hashes, certificate names, tenants,
                     platforms, roles, limits), re-read when it changes
    policy.py        METHODS: every RPC's roles, request keys, audit flag and cost
    limits.py        per-credential token buckets and concurrency caps
    interceptor.py   the grpc.aio server interceptor that applies all of the above
    transport.py     TLS server credentials that follow their files; the exposure check
    metrics.py       rejections and limits as Prometheus metrics
    setup.py         building it from Settings

Without a credentials file nothing here runs and every call is allowed, which
``transport.check_exposure`` permits on loopback addresses only.
"""
