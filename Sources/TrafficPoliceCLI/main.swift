print("traffic-police: not yet")
