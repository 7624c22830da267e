"""The REST API's shared machinery, used by every app's ``api`` package: token authentication and
scopes (``authentication``, ``permissions``), throttling, the one error shape (``errors``),
``Idempotency-Key`` (``idempotency``), pagination and the OpenAPI schema (``schema``).

Nothing is imported here: DRF imports these modules from its settings while it loads."""
