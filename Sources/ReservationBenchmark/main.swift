// ReservationBenchmark: placeholder until its first sources land.
print("reservation-bench: not yet")
