"""The simulated OpenStack cloud: the demo, the test backend and the benchmark load."""
