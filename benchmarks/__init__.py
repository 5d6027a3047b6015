"""Speed, scale and memory measurements of satisac against the cvxpy reference."""
