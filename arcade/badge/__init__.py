"""The badge toolchain: build the firmware with mpy-cross, run it in the simulator, deploy it, start a game."""
