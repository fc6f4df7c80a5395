"""The simulated world: clock, nets and their drivers, edge queues, electrical rules."""
