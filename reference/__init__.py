"""cvxpy reference implementations (Clarabel, SCS fallback) of every convex subproblem and
of the slow per-drop algorithms, used to validate the JAX solvers and behind
``--reference``.  Never imported by ``jaxcore``; ``solvers`` imports it only lazily."""
