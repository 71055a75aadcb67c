// CLITests: placeholder until its first tests land.
