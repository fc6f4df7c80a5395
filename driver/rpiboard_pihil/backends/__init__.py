"""Backends: the ways the driver reaches a board (`SimulatedBackend`, `LinuxBackend`)."""
