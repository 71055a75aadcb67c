// PostgresBridgeTests: placeholder until its first tests land.
