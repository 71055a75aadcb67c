// CurlBridge: placeholder until its first sources land.
