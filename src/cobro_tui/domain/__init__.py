"""The business of collection as plain values: no I/O, no clock, no terminal."""
