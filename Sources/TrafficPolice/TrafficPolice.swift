// TrafficPolice: placeholder until its first sources land.
