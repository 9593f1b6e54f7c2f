"""Pure domain objects of Keyturn: tokens, sessions, revocation rules, clocks.

Nothing here performs I/O or imports anything outside the standard library.
"""
