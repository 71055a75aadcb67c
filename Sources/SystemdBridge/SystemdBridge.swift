// SystemdBridge: placeholder until its first sources land.
