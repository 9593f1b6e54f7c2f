"""HTTP benchmark of Keyturn against small anchor apps. Run it with ``make bench``."""
