"""Faithful local emulators of the services histodata fetches from (127.0.0.1, OS-chosen ports)."""
