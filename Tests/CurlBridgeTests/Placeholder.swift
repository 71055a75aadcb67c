// CurlBridgeTests: placeholder until its first tests land.
