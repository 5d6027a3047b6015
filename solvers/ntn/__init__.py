"""NTN solvers: world front-end, allocation files, JMRA, rounding, DMRAB, frame simulation."""
