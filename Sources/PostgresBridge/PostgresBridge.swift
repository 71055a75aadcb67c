// PostgresBridge: placeholder until its first sources land.
