"""ISTN solvers: instance files, generator front-end, association, P1/P2/P3, baselines."""
