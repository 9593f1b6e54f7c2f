"""Use cases of Keyturn and the ports they depend on."""
