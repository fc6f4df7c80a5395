"""SoC blocks at register level, parameterised by SoC variant."""
