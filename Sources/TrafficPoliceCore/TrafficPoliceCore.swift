// TrafficPoliceCore: placeholder until its first sources land.
