"""Work on the grid: Ray Jobs, live actors and tasks, why something waits, placement groups."""
