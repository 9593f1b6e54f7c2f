"""Anchor apps that Keyturn's figures are compared with.

(A) is a Litestar hello world. (B) and (C) protect one GET route with
Litestar's ``JWTCookieAuth`` and with Flask and flask-jwt-extended. Both
read their HS256 secret from ``BENCH_JWT_SECRET``, and their ``POST /login``
returns a token cookie for the single user ``1``.
"""

USER_ID = "1"
