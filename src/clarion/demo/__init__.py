"""The main job: a whole campaign against the simulated market, from `clarion demo`."""
