// RedisBridgeTests: placeholder until its first tests land.
