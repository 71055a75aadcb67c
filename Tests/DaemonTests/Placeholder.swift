// DaemonTests: the built daemon end to end (next commits).
