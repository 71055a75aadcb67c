// RedisBridge: placeholder until its first sources land.
