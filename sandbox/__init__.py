"""Local provider sandbox (loopback HTTP): see server.py for the framework, doku.py for DOKU."""
