"""Redis adapters for the revocation store, the refresh token store and the login attempt counter.

Every key these adapters write carries a TTL, so Redis needs no purge job.
"""
