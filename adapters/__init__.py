"""Adapters: implementations of the application's ports for real and in-memory backends."""
