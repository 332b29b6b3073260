"""Faithful local emulators of the services histodata fetches from (127.0.0.1, OS-chosen ports).

Each is an `emulators.service.Emulator` that declares the public origins it answers for; a test
runs it with the `emulate` fixture (tests/conftest.py), which starts it and routes those origins to
it through $HISTODATA_MIRRORS:

    def test_something(emulate, extra_registry):
        zenodo = emulate(ZenodoEmulator())
        zenodo.add("1001", {"a.zip": b"..."})
"""
