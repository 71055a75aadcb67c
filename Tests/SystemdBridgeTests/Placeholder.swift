// SystemdBridgeTests: placeholder until its first tests land.
