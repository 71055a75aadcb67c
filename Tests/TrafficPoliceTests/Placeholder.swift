// TrafficPoliceTests: placeholder until its first tests land.
