// TrafficPoliceCoreTests: placeholder until its first tests land.
